// Gives one recipient their way in: a new link by e-mail and a new PIN by a second channel (SMS when a
// phone number is known, otherwise a separate e-mail). Neither is stored, only their keyed hashes; a
// new link replaces the old one, and a new PIN ends the sessions earned with the old.
import { AppError } from "../../errors/app-error.ts";
import type { SignatureRequestsTable } from "../../store/schema.ts";
import type { Selectable } from "kysely";
import { recordEvidence } from "./record-evidence.ts";
import { openCompanyName, openContact, openRequestMessage, openRequestTitle } from "./signing-fields.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { newSigningPin, newSigningToken, signingPinHash, signingTokenHash } from "./signing-secrets.ts";
import type { RecipientRow } from "./signing-turns.ts";

export function signingUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/sign#token=${token}`;
}

type RequestRow = Selectable<SignatureRequestsTable>;

async function companyName(deps: SigningDeps, tenantId: string): Promise<string> {
  const tenant = await deps.db.selectFrom("tenants").select(["id", "name_ciphertext"]).where("id", "=", tenantId).executeTakeFirstOrThrow();
  return openCompanyName(deps.vault, tenant);
}

async function sendPin(deps: SigningDeps, contact: { email: string; phone?: string }, company: string, pin: string): Promise<void> {
  const text = `Your PIN to open the document ${company} sent you for signature: PIN ${pin}\n\nIt reaches you apart from the link, which came by e-mail. Never share it.`;
  if (contact.phone) await deps.messages.send({ channel: "sms", to: contact.phone, purpose: "signing_pin", subject: "Signing PIN", text });
  else await deps.messages.send({ channel: "email", to: contact.email, purpose: "signing_pin", subject: `Your PIN for the document from ${company}`, text });
}

// kind: "link" sends a new link and PIN (first sending, reminders); "pin" only a new PIN (after a lock).
export async function issueSigningLink(deps: SigningDeps, request: RequestRow, recipient: RecipientRow, kind: "link" | "reminder" | "pin", now = Date.now()): Promise<void> {
  const { db, vault } = deps;
  if (recipient.role === "viewer") throw new AppError("conflict", "a viewer receives a copy of the signed document, not a link");
  const contact = await openContact(vault, recipient);
  const company = await companyName(deps, request.tenant_id);
  const pin = newSigningPin();
  const token = kind === "pin" ? undefined : newSigningToken();
  const at = new Date(now).toISOString();
  const thisRecipient = db.updateTable("signature_recipients").where("tenant_id", "=", recipient.tenant_id).where("id", "=", recipient.id);
  // Only from the state this call saw: of two nodes (or two clicks) issuing at once, one sends.
  const unchanged = thisRecipient.where("status", "=", recipient.status)
    .where("pin_hash", recipient.pin_hash === null ? "is" : "=", recipient.pin_hash);
  const issued = await unchanged.set({
    ...(token ? { token_hash: signingTokenHash(vault, token) } : {}),
    pin_hash: signingPinHash(vault, recipient.id, pin), pin_failures: 0, locked_at: null,
    ...(recipient.status === "waiting" ? { status: "sent" as const, notified_at: at } : {}),
    ...(kind === "reminder" ? { reminded_at: at } : {}),
  }).executeTakeFirst();
  if (Number(issued.numUpdatedRows) !== 1) return;
  try {
    if (token) {
      const title = await openRequestTitle(vault, request);
      const message = await openRequestMessage(vault, request);
      const url = signingUrl(deps.publicUrl, token);
      await deps.messages.send({
        channel: "email", to: contact.email, purpose: kind === "reminder" ? "signing_reminder" : "signing_link",
        subject: `${kind === "reminder" ? "Reminder: " : ""}${company} asks you to sign "${title}"`,
        text: `Hello ${contact.name},\n\n${company} asks you to sign "${title}" by ${request.expires_at}.\n\n` +
          (message ? `Their message:\n${message}\n\n` : "") +
          `Open the document with this personal link:\n\n${url}\n\nYou will also need a PIN, which reaches you separately${contact.phone ? " by SMS" : " in another e-mail"}.\n` +
          (kind === "reminder" ? "This link replaces any earlier one.\n" : ""),
      });
    }
    await sendPin(deps, contact, company, pin);
  } catch (error) {
    // A link that did not reach its recipient is not left half-issued.
    await thisRecipient.set({
      token_hash: recipient.token_hash, pin_hash: recipient.pin_hash, pin_failures: recipient.pin_failures, locked_at: recipient.locked_at,
      status: recipient.status, notified_at: recipient.notified_at, reminded_at: recipient.reminded_at,
    }).execute();
    throw error;
  }
  const event = kind === "pin" ? "pin_reissued" : kind === "reminder" ? "reminded" : "sent";
  await recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: recipient.id, event }, now);
  await recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: recipient.id, event: "delivered" }, now);
}
