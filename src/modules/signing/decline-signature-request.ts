// A signer or approver declines, with a reason: the request ends for everyone (every link stops
// working) and the sender is told. The reason is sealed.
import { AppError } from "../../errors/app-error.ts";
import { openUserField } from "../accounts/user-fields.ts";
import type { OpenSigningLink } from "./open-signing-link.ts";
import { recordEvidence } from "./record-evidence.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { declineReasonContext, openContact, openRequestTitle } from "./signing-fields.ts";

export const maxDeclineReasonLength = 1000;

export async function declineSignatureRequest(deps: SigningDeps, link: OpenSigningLink, reason: string, meta: { ip: string; userAgent: string | undefined }): Promise<void> {
  const { db, vault } = deps;
  const { request, recipient } = link;
  const trimmed = reason.trim();
  if (!trimmed.length || trimmed.length > maxDeclineReasonLength) throw new AppError("validation_failed", `give a reason of 1 to ${maxDeclineReasonLength} characters`);
  const sealedReason = await vault.data.sealString(declineReasonContext(recipient.tenant_id, recipient.id), trimmed);
  const now = new Date().toISOString();
  await db.transaction().execute(async (trx) => {
    const claimed = await trx.updateTable("signature_recipients").set({ status: "declined", declined_at: now, decline_reason_ciphertext: sealedReason })
      .where("tenant_id", "=", recipient.tenant_id).where("id", "=", recipient.id).where("status", "=", "sent").executeTakeFirst();
    const ended = await trx.updateTable("signature_requests").set({ status: "declined", finished_at: now })
      .where("tenant_id", "=", request.tenant_id).where("id", "=", request.id).where("status", "=", "sent").where("finished_at", "is", null).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1 || Number(ended.numUpdatedRows) !== 1) throw new AppError("conflict", "this request can no longer be declined");
  });
  await recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: recipient.id, event: "declined", ip: meta.ip, userAgent: meta.userAgent });
  const sender = await db.selectFrom("users").select(["id", "email_ciphertext"]).where("id", "=", request.created_by).executeTakeFirst();
  if (!sender) return;
  const email = await openUserField(vault, sender.id, "email", sender.email_ciphertext);
  const contact = await openContact(vault, recipient);
  const title = await openRequestTitle(vault, request);
  await deps.messages.send({
    channel: "email", to: email, purpose: "signing_declined", subject: `Declined: "${title}"`,
    text: `${contact.name} declined to sign "${title}". Their reason:\n\n${trimmed}\n\nThe request has ended; its links no longer work.\n`,
  }).catch(() => undefined);
}
