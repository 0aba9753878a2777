// The request's evidence trail: every step (sent, delivered, opened, PIN ok/failed, viewed, consent,
// signed, declined, completed, …) with its time, address and user agent. Events that matter to the
// company's systems go on to its webhooks.
import { randomBytes } from "node:crypto";
import type { SigningDeps } from "./signing-deps.ts";

export type EvidenceEvent =
  | "created" | "sent" | "delivered" | "opened" | "pin_ok" | "pin_failed" | "pin_locked" | "pin_reissued" | "viewed" | "consented"
  | "signed" | "approved" | "declined" | "reminded" | "cancelled" | "expired" | "completed" | "seal_failed" | "final_sent";

export type EvidenceInput = {
  tenantId: string;
  requestId: string;
  recipientId: string | null;
  event: EvidenceEvent;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
};

const webhookEvents = new Set<EvidenceEvent>(["sent", "viewed", "signed", "approved", "declined", "cancelled", "expired", "completed", "pin_locked"]);
const maxUserAgent = 512;
// Each event is kept at most this often per recipient (a link opened a thousand times is on the audit
// trail, not in the certificate): the trail stays within what the seal accepts (10,000 steps).
export const maxRepeatsPerEvent = 20;
let sequence = 0;

// Sortable by time, then by order of recording within this process.
function evidenceId(now: number): string {
  sequence = (sequence + 1) % 0x1_0000_0000;
  return `${String(now).padStart(15, "0")}-${sequence.toString(16).padStart(8, "0")}-${randomBytes(4).toString("hex")}`;
}

export async function recordEvidence(deps: Pick<SigningDeps, "db" | "onRequestEvent">, input: EvidenceInput, now = Date.now()): Promise<void> {
  const at = new Date(now).toISOString();
  let repeats = deps.db.selectFrom("signature_evidence").select((eb) => eb.fn.countAll<number>().as("count"))
    .where("tenant_id", "=", input.tenantId).where("request_id", "=", input.requestId).where("event", "=", input.event);
  repeats = input.recipientId ? repeats.where("recipient_id", "=", input.recipientId) : repeats.where("recipient_id", "is", null);
  if (Number((await repeats.executeTakeFirstOrThrow()).count) >= maxRepeatsPerEvent) return;
  await deps.db.insertInto("signature_evidence").values({
    tenant_id: input.tenantId, id: evidenceId(now), request_id: input.requestId, recipient_id: input.recipientId, event: input.event, at,
    ip: input.ip ?? null, user_agent: input.userAgent ? input.userAgent.slice(0, maxUserAgent) : null,
  }).execute();
  if (webhookEvents.has(input.event) && deps.onRequestEvent) {
    await deps.onRequestEvent({ tenantId: input.tenantId, requestId: input.requestId, event: input.event, recipientId: input.recipientId, at });
  }
}
