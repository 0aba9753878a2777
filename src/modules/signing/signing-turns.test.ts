import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allHaveSigned, isTurnOf, recipientsDue, type RecipientRow } from "./signing-turns.ts";

const recipient = (id: string, role: RecipientRow["role"], order: number, status: RecipientRow["status"]): RecipientRow => ({
  tenant_id: "t", id, request_id: "r", role, order_index: order, status, contact_ciphertext: new Uint8Array(), token_hash: null, pin_hash: null,
  pin_failures: 0, locked_at: null, notified_at: null, reminded_at: null, consent_at: null, signed_at: null, declined_at: null,
  decline_reason_ciphertext: null, signed_ip: null, signed_user_agent: null,
});

describe("signing turns", () => {
  it("sequential: only the first who has not signed may act; viewers never", () => {
    const list = [recipient("v", "viewer", 0, "cc"), recipient("a", "signer", 1, "signed"), recipient("b", "approver", 2, "waiting"), recipient("c", "signer", 3, "waiting")];
    const order = { signing_order: "sequential" as const };
    assert.deepEqual(list.map((r) => isTurnOf(order, list, r)), [false, true, true, false]);
    assert.deepEqual(recipientsDue(order, list).map((r) => r.id), ["b"]);
    assert.equal(allHaveSigned(list), false);
  });

  it("parallel: every signer and approver at once; done when all have signed", () => {
    const list = [recipient("a", "signer", 0, "waiting"), recipient("b", "approver", 1, "sent"), recipient("v", "viewer", 2, "cc")];
    const order = { signing_order: "parallel" as const };
    assert.deepEqual(recipientsDue(order, list).map((r) => r.id), ["a"], "b has its link already");
    assert.equal(isTurnOf(order, list, list[2]!), false);
    assert.equal(allHaveSigned(list.map((r) => (r.role === "viewer" ? r : { ...r, status: "signed" as const }))), true);
  });
});
