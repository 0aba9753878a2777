// The signature workflow's clock: requests past their expiry expire (their links stop working),
// pending recipients are reminded at their request's interval, links whose sending failed are sent,
// and requests whose signers are all done but which are not yet sealed are completed. A function of
// the time it is given, so tests run it with any clock; the server calls it on a timer.
import { completeSignatureRequest, completionClaimMs } from "./complete-signature-request.ts";
import { issueSigningLink } from "./issue-signing-link.ts";
import { recordEvidence } from "./record-evidence.ts";
import { loadRecipients, notifyDueRecipients } from "./send-signature-request.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { allHaveSigned, isTurnOf } from "./signing-turns.ts";
import { runWebhookDeliveries } from "./signing-webhooks.ts";

export const scheduleBatch = 500;
const day = 86_400_000;

export type ScheduleResult = { expired: number; reminded: number; completed: number; webhooks?: { delivered: number; retrying: number; failed: number } };

async function recordSystemEvent(deps: SigningDeps, tenantId: string, action: string, requestId: string, details: Record<string, string | number>): Promise<void> {
  await deps.audit?.record(
    { tenantId, actorType: "system", actorId: null, ip: "", action, object: { requestId }, requestId: null },
    { result: "ok", status: null, errorCode: null, subjectId: requestId, details },
  );
}

export async function runSigningSchedule(deps: SigningDeps, now = Date.now()): Promise<ScheduleResult> {
  const { db } = deps;
  const at = new Date(now).toISOString();
  const result: ScheduleResult = { expired: 0, reminded: 0, completed: 0 };

  const overdue = await db.selectFrom("signature_requests").select(["tenant_id", "id"]).where("status", "in", ["draft", "sent"])
    .where("expires_at", "<=", at).where("finished_at", "is", null).limit(scheduleBatch).execute();
  for (const request of overdue) {
    // Everyone has signed: the request waits for its seal, it does not expire.
    if (allHaveSigned(await loadRecipients(deps, request))) continue;
    const changed = await db.updateTable("signature_requests").set({ status: "expired", finished_at: at })
      .where("tenant_id", "=", request.tenant_id).where("id", "=", request.id).where("status", "in", ["draft", "sent"]).where("finished_at", "is", null).executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) continue;
    result.expired++;
    await recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: null, event: "expired" }, now);
    await recordSystemEvent(deps, request.tenant_id, "signing.expired", request.id, {});
  }

  const open = await db.selectFrom("signature_requests").selectAll().where("status", "=", "sent")
    .orderBy("expires_at").limit(scheduleBatch).execute();
  for (const request of open) {
    try {
      const recipients = await loadRecipients(deps, request);
      if (allHaveSigned(recipients)) {
        if (!request.finished_at || Date.parse(request.finished_at) < now - completionClaimMs) {
          if (await completeSignatureRequest(deps, request.tenant_id, request.id, now)) {
            result.completed++;
            await recordSystemEvent(deps, request.tenant_id, "signing.completed", request.id, {});
          }
        }
        continue;
      }
      if (Date.parse(request.expires_at) <= now) continue;
      await notifyDueRecipients(deps, request, now);
      if (!request.reminder_days) continue;
      for (const recipient of recipients) {
        if (recipient.status !== "sent" || recipient.locked_at || !isTurnOf(request, recipients, recipient)) continue;
        const last = Date.parse(recipient.reminded_at ?? recipient.notified_at ?? request.sent_at ?? request.created_at);
        if (now - last < request.reminder_days * day) continue;
        // Claimed first, so that two nodes running the schedule at once send one reminder.
        const claim = db.updateTable("signature_recipients").set({ reminded_at: at }).where("tenant_id", "=", recipient.tenant_id).where("id", "=", recipient.id);
        const claimed = await (recipient.reminded_at ? claim.where("reminded_at", "=", recipient.reminded_at) : claim.where("reminded_at", "is", null)).executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) continue;
        await issueSigningLink(deps, request, recipient, "reminder", now);
        result.reminded++;
        await recordSystemEvent(deps, request.tenant_id, "signing.reminded", request.id, { recipientId: recipient.id });
      }
    } catch (error) {
      // One request's trouble (a relay down) does not hold up the others; the next run tries again.
      deps.log?.warn({ err: error, tenantId: request.tenant_id, requestId: request.id }, "signature schedule step failed");
    }
  }
  if (deps.webhooks) result.webhooks = await runWebhookDeliveries(deps.webhooks, now);
  return result;
}

// The server's timer; stop() for a clean shutdown.
export function startSigningSchedule(deps: SigningDeps, everyMs = 60_000): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running || deps.vault.isSealed()) return;
    running = true;
    runSigningSchedule(deps).catch((error: unknown) => deps.log?.error({ err: error }, "signature schedule failed")).finally(() => { running = false; });
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
