// Proves the detectors: mass download fires once per window past the limit, per principal and company;
// permission escalation fires only when someone rises to admin or owner.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDetectors } from "./detectors.ts";
import { createSecurityEvents, type SecurityEvent } from "./security-events.ts";

function harness(limit = 3, windowMs = 1_000) {
  const events = createSecurityEvents();
  const seen: SecurityEvent[] = [];
  events.subscribe((event) => { seen.push(event); });
  let clock = 0;
  const detectors = createDetectors({ events, massDownload: { limit, windowMs }, maxTrackedPrincipals: 100, now: () => clock });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { detectors, seen, settle, advance: (ms: number) => { clock += ms; } };
}

describe("mass download detector", () => {
  it("raises mass_download once when one principal passes the limit within the window", async () => {
    const { detectors, seen, settle, advance } = harness(3, 1_000);
    for (let i = 0; i < 3; i++) { detectors.noteDownload("t1", "u1", "203.0.113.5"); advance(10); }
    await settle();
    assert.equal(seen.length, 0, "at the limit: nothing");
    detectors.noteDownload("t1", "u1", "203.0.113.5");
    for (let i = 0; i < 10; i++) detectors.noteDownload("t1", "u1", "203.0.113.5");
    await settle();
    assert.equal(seen.length, 1, "raised once per window, not per download");
    assert.deepEqual({ type: seen[0]!.type, tenantId: seen[0]!.tenantId, ip: seen[0]!.ip, userId: seen[0]!.userId },
      { type: "mass_download", tenantId: "t1", ip: "203.0.113.5", userId: "u1" });
    assert.equal(seen[0]!.details.limit, 3);
    advance(1_000);
    for (let i = 0; i < 4; i++) detectors.noteDownload("t1", "u1", "203.0.113.5");
    await settle();
    assert.equal(seen.length, 2, "raised again in a later window");
  });

  it("counts per principal and per company, and forgets downloads outside the window", async () => {
    const { detectors, seen, settle, advance } = harness(3, 1_000);
    for (let i = 0; i < 3; i++) {
      detectors.noteDownload("t1", "u1", "ip");
      detectors.noteDownload("t1", "u2", "ip");
      detectors.noteDownload("t2", "u1", "ip");
    }
    advance(1_001);
    detectors.noteDownload("t1", "u1", "ip");
    await settle();
    assert.equal(seen.length, 0);
  });
});

describe("permission escalation detector", () => {
  it("raises permission_escalation when a member rises to admin or owner, not otherwise", async () => {
    const { detectors, seen, settle } = harness();
    detectors.notePermissionChange("t1", "owner1", "u1", "viewer", "admin");
    detectors.notePermissionChange("t1", "owner1", "u2", "admin", "owner");
    detectors.notePermissionChange("t1", "owner1", "u3", undefined, "admin");
    detectors.notePermissionChange("t1", "owner1", "u4", "viewer", "member");
    detectors.notePermissionChange("t1", "owner1", "u5", "owner", "admin");
    detectors.notePermissionChange("t1", "owner1", "u6", "admin", "admin");
    await settle();
    assert.deepEqual(seen.map((event) => [event.type, event.userId, event.details.fromRole, event.details.toRole, event.details.actorId]), [
      ["permission_escalation", "u1", "viewer", "admin", "owner1"],
      ["permission_escalation", "u2", "admin", "owner", "owner1"],
      ["permission_escalation", "u3", null, "admin", "owner1"],
    ]);
    assert.ok(seen.every((event) => event.tenantId === "t1"));
  });
});
