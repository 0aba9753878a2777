// The guard's decisions on the memory store: budgets hold under parallel attempts, strikes turn into
// a ban once, repeat bans last longer (capped), lifting forgets the strikes, known addresses and
// devices stay outside the shared budget of strangers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../log/logger.ts";
import { createSecurityEvents, type SecurityEvent } from "../monitoring/security-events.ts";
import { abuseConfigSchema } from "./abuse-config.ts";
import { createAbuseGuard } from "./abuse-guard.ts";
import { createMemoryCounterStore } from "./memory-counter-store.ts";

function guardWith(overrides: Record<string, unknown>) {
  const events = createSecurityEvents();
  const seen: SecurityEvent[] = [];
  events.subscribe((event) => { seen.push(event); });
  const store = createMemoryCounterStore();
  const guard = createAbuseGuard({ store, config: abuseConfigSchema.parse(overrides), events, log: createLogger({ level: "silent" }) });
  return { guard, store, seen };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("abuse guard", () => {
  it("admits exactly the per-account-and-address budget, even in parallel", async () => {
    const { guard, store } = guardWith({ login: { perAccountIp: { limit: 7, windowSeconds: 60 } } });
    const results = await Promise.all(Array.from({ length: 100 }, () => guard.admitPasswordCheck("203.0.113.1", "acct", async () => false)));
    assert.equal(results.filter((result) => "attempt" in result).length, 7);
    assert.ok(results.filter((result) => "reason" in result).every((result) => "reason" in result && result.reason === "account_throttled" && result.retryAfterMs > 0));
    await store.close();
  });

  it("keeps strangers to one shared budget per account; a known address or device is outside it", async () => {
    const { guard, store } = guardWith({ login: { perAccountUnknownAddresses: { limit: 3, windowSeconds: 60 } } });
    await guard.passwordAccepted("198.51.100.1", "acct");
    const strangers = await Promise.all(Array.from({ length: 10 }, (_, index) => guard.admitPasswordCheck(`100.64.0.${index}`, "acct", async () => false)));
    assert.equal(strangers.filter((result) => "attempt" in result).length, 3);
    assert.ok("attempt" in (await guard.admitPasswordCheck("198.51.100.1", "acct", async () => false)), "the known address");
    assert.ok("attempt" in (await guard.admitPasswordCheck("192.0.2.1", "acct", async () => true)), "a recognised device");
    assert.ok("reason" in (await guard.admitPasswordCheck("192.0.2.2", "acct", async () => false)), "another stranger");
    assert.ok("attempt" in (await guard.admitPasswordCheck("100.64.0.99", "other-account", async () => false)), "other accounts are untouched");
    await store.close();
  });

  it("bans on the threshold strike, once; a second ban lasts twice as long, up to the cap", async () => {
    const { guard, store, seen } = guardWith({ ban: { strikes: 5, durationSeconds: 10, maxDurationSeconds: 15 } });
    await Promise.all(Array.from({ length: 5 }, () => guard.strike("203.0.113.9", "failed_login")));
    await settle();
    const first = await guard.checkBan("203.0.113.9");
    assert.equal(first?.reason, "banned");
    assert.ok(first!.retryAfterMs > 9000 && first!.retryAfterMs <= 10_000);
    assert.deepEqual(seen.map((event) => [event.type, event.ip, event.details.durationSeconds]), [["ban", "203.0.113.9", 10]]);
    const listed = await guard.listBans();
    assert.deepEqual(listed.bans.map((ban) => [ban.address, ban.reason, ban.strikes]), [["203.0.113.9", "failed_login", 5]]);

    assert.equal(await guard.liftBan("203.0.113.9"), true);
    assert.equal(await guard.checkBan("203.0.113.9"), undefined);
    assert.equal(await guard.liftBan("203.0.113.9"), false);
    for (let index = 0; index < 4; index++) await guard.strike("203.0.113.9", "failed_login");
    assert.equal(await guard.checkBan("203.0.113.9"), undefined, "lifting forgot the old strikes");
    await guard.strike("203.0.113.9", "failed_login");
    const second = await guard.checkBan("203.0.113.9");
    assert.ok(second!.retryAfterMs > 14_000 && second!.retryAfterMs <= 15_000, "twice 10 s, capped at 15 s");
    await store.close();
  });

  it("reports stuffing and bursts once each, when the threshold is reached", async () => {
    const { guard, store, seen } = guardWith({ detection: { stuffingAccounts: 3, burstAddresses: 3 }, login: { freeFailures: 100 } });
    for (let index = 0; index < 6; index++) await guard.passwordFailed("203.0.113.5", `account-${index}`, 1);
    for (let index = 0; index < 6; index++) await guard.passwordFailed(`100.64.1.${index}`, "victim", 1);
    await settle();
    assert.deepEqual(seen.map((event) => event.type), ["credential_stuffing", "failed_login_burst"]);
    await store.close();
  });
});
