// What the sender's side sees of a request: its recipients' statuses, the fields (filled or not, never
// their values: those are in the sealed final PDF), the evidence and the final PDF's seal. Never a
// token, PIN or hash.
import type { Vault } from "../../vault/vault.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { declineReasonContext, openContact, openRequestMessage, openRequestTitle } from "./signing-fields.ts";
import type { RequestRow } from "./signing-policy.ts";
import { loadRecipients } from "./send-signature-request.ts";
import { loadFieldsOf } from "./sign-as-recipient.ts";

export async function presentRequestSummary(vault: Vault, request: RequestRow) {
  return {
    id: request.id, documentId: request.document_id, documentVersion: request.document_version, title: await openRequestTitle(vault, request),
    order: request.signing_order, status: request.status, expiresAt: request.expires_at, reminderDays: request.reminder_days,
    createdBy: request.created_by, createdAt: request.created_at, sentAt: request.sent_at,
    finishedAt: request.status === "sent" ? null : request.finished_at,
    final: request.final_blob_key ? { size: Number(request.final_size), sha256: request.seal_sha256 } : null,
  };
}

export async function presentSignatureRequest(deps: Pick<SigningDeps, "db" | "vault">, request: RequestRow) {
  const { db, vault } = deps;
  const recipients = await loadRecipients(deps, request);
  const fields = await loadFieldsOf(deps, request.tenant_id, request.id);
  const evidence = await db.selectFrom("signature_evidence").selectAll().where("tenant_id", "=", request.tenant_id).where("request_id", "=", request.id)
    .orderBy("id").limit(10_000).execute();
  return {
    ...(await presentRequestSummary(vault, request)),
    message: await openRequestMessage(vault, request),
    recipients: await Promise.all(recipients.map(async (recipient) => {
      const contact = await openContact(vault, recipient);
      return {
        id: recipient.id, name: contact.name, email: contact.email, phone: contact.phone ?? null, role: recipient.role,
        order: recipient.role === "viewer" ? null : recipient.order_index, status: recipient.status, locked: recipient.locked_at !== null,
        pinFailures: Number(recipient.pin_failures), notifiedAt: recipient.notified_at, consentAt: recipient.consent_at,
        signedAt: recipient.signed_at, declinedAt: recipient.declined_at,
        declineReason: recipient.decline_reason_ciphertext ? await vault.data.openString(declineReasonContext(recipient.tenant_id, recipient.id), recipient.decline_reason_ciphertext) : null,
      };
    })),
    fields: fields.map((field) => ({
      id: field.id, recipientId: field.recipient_id, kind: field.kind, page: field.page, x: field.x, y: field.y, width: field.width, height: field.height,
      required: field.required === 1, filled: field.value_ciphertext !== null,
    })),
    evidence: evidence.map((row) => ({ at: row.at, event: row.event, recipientId: row.recipient_id, ip: row.ip, userAgent: row.user_agent })),
  };
}
