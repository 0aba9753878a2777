// Creates a signature request on the current version of a PDF document, as a draft: recipients with
// their roles and order, fields placed for signers (a signer without a signature field signs on a page
// appended at the end), a message, an expiry and a reminder interval. Nothing is sent yet.
import { Readable } from "node:stream";
import { AppError } from "../../errors/app-error.ts";
import type { SignatureRecipientRole } from "../../store/schema.ts";
import { newPublicId } from "../auth/secret-tokens.ts";
import { openVersion } from "../documents/document-content.ts";
import type { PlacedFieldKind } from "../seals/seal-types.ts";
import { recordEvidence } from "./record-evidence.ts";
import { requestMessageContext, requestTitleContext, sealContact } from "./signing-fields.ts";
import type { SigningDeps } from "./signing-deps.ts";
import type { DocumentRow } from "./signing-policy.ts";

export const signingLimits = {
  recipients: 20,
  fields: 200,
  titleLength: 500,
  messageLength: 2000,
  nameLength: 200,
  maxDays: 180,
  maxReminderDays: 30,
  maxPage: 9999,
  maxCoordinate: 14_400,
} as const;

export const fieldKinds: readonly PlacedFieldKind[] = ["signature", "initials", "date", "text", "checkbox"];
export const recipientRoles: readonly SignatureRecipientRole[] = ["signer", "approver", "viewer"];

export type NewRecipient = { name: string; email: string; phone?: string | undefined; role: SignatureRecipientRole };
export type NewField = { recipient: number; kind: PlacedFieldKind; page: number; x: number; y: number; width: number; height: number; required?: boolean | undefined };

export type NewSignatureRequest = {
  tenantId: string;
  createdBy: string;
  document: DocumentRow;
  version: number;
  documentTitle: string;
  title?: string | undefined;
  message?: string | undefined;
  order: "parallel" | "sequential";
  expiresAt: string;
  reminderDays?: number | undefined;
  recipients: NewRecipient[];
  fields: NewField[];
  ip?: string | undefined;
  userAgent?: string | undefined;
};

// A signer without a signature field gets one on the page appended after the document.
const appendedSignature = { page: -1, x: 0, y: 0, width: 200, height: 50 };

function validate(input: NewSignatureRequest, now: number): void {
  const invalid = (message: string) => new AppError("validation_failed", message);
  const expires = Date.parse(input.expiresAt);
  if (!Number.isFinite(expires) || expires <= now) throw invalid("expiresAt must be a time in the future");
  if (expires > now + signingLimits.maxDays * 86_400_000) throw invalid(`a request may last at most ${signingLimits.maxDays} days`);
  if (input.recipients.length === 0 || input.recipients.length > signingLimits.recipients) throw invalid(`a request has 1 to ${signingLimits.recipients} recipients`);
  if (!input.recipients.some((recipient) => recipient.role !== "viewer")) throw invalid("a request needs at least one signer or approver");
  const emails = new Set(input.recipients.map((recipient) => recipient.email.toLowerCase()));
  if (emails.size !== input.recipients.length) throw invalid("each recipient needs their own e-mail address");
  if (input.fields.length > signingLimits.fields) throw invalid(`a request has at most ${signingLimits.fields} fields`);
  if (input.reminderDays !== undefined && (!Number.isInteger(input.reminderDays) || input.reminderDays < 1 || input.reminderDays > signingLimits.maxReminderDays)) {
    throw invalid(`reminderDays must be a whole number from 1 to ${signingLimits.maxReminderDays}`);
  }
  for (const [index, field] of input.fields.entries()) {
    const recipient = input.recipients[field.recipient];
    if (!recipient) throw invalid(`fields[${index}].recipient names no recipient`);
    if (recipient.role !== "signer") throw invalid(`fields[${index}]: only signers fill fields`);
    const inside = (value: number) => Number.isFinite(value) && value >= 0 && value <= signingLimits.maxCoordinate;
    if (!inside(field.x) || !inside(field.y) || !inside(field.width) || !inside(field.height) || field.width === 0 || field.height === 0) {
      throw invalid(`fields[${index}]: coordinates are PDF points from 0 to ${signingLimits.maxCoordinate}, with a width and height`);
    }
    if (!Number.isInteger(field.page) || field.page < 0 || field.page > signingLimits.maxPage) throw invalid(`fields[${index}].page must be a page index from 0`);
  }
}

async function requirePdfBytes(deps: SigningDeps, input: NewSignatureRequest): Promise<void> {
  const row = await deps.db.selectFrom("document_versions").selectAll().where("tenant_id", "=", input.tenantId).where("document_id", "=", input.document.id)
    .where("version", "=", input.version).executeTakeFirstOrThrow();
  if (Number(row.size) < 5) throw new AppError("validation_failed", "only a PDF document can be sent for signature");
  const head: Buffer[] = [];
  for await (const chunk of (await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, { start: 0, end: 4 })) as Readable) head.push(chunk as Buffer);
  if (Buffer.concat(head).toString("latin1") !== "%PDF-") throw new AppError("validation_failed", "only a PDF document can be sent for signature: this file is not a PDF");
}

export async function createSignatureRequest(deps: SigningDeps, input: NewSignatureRequest): Promise<{ id: string }> {
  const { db, vault } = deps;
  const now = Date.now();
  validate(input, now);
  await requirePdfBytes(deps, input);
  const id = newPublicId();
  const at = new Date(now).toISOString();
  const recipientIds = input.recipients.map(() => newPublicId());
  const recipients = await Promise.all(input.recipients.map(async (recipient, index) => ({
    tenant_id: input.tenantId, id: recipientIds[index]!, request_id: id, role: recipient.role,
    // The order given; only signers and approvers take turns (signing-turns.ts).
    order_index: index,
    status: recipient.role === "viewer" ? "cc" as const : "waiting" as const,
    contact_ciphertext: await sealContact(vault, input.tenantId, recipientIds[index]!, {
      name: recipient.name.trim(), email: recipient.email.trim(), ...(recipient.phone ? { phone: recipient.phone } : {}),
    }),
    token_hash: null, pin_hash: null, locked_at: null, notified_at: null, reminded_at: null, consent_at: null, signed_at: null,
    declined_at: null, decline_reason_ciphertext: null, signed_ip: null, signed_user_agent: null,
  })));
  const placed = [...input.fields];
  for (const [index, recipient] of input.recipients.entries()) {
    if (recipient.role === "signer" && !placed.some((field) => field.recipient === index && field.kind === "signature")) {
      placed.push({ recipient: index, kind: "signature", required: true, ...appendedSignature });
    }
  }
  const fields = placed.map((field) => ({
    tenant_id: input.tenantId, id: newPublicId(), request_id: id, recipient_id: recipientIds[field.recipient]!, kind: field.kind,
    page: field.page, x: field.x, y: field.y, width: field.width, height: field.height,
    // A signature is always required; other fields when the sender says so.
    required: field.kind === "signature" || field.required === true ? 1 : 0, value_ciphertext: null,
  }));
  const title = (input.title ?? input.documentTitle).trim().slice(0, signingLimits.titleLength) || "Document";
  await db.transaction().execute(async (trx) => {
    await trx.insertInto("signature_requests").values({
      tenant_id: input.tenantId, id, document_id: input.document.id, document_version: input.version, created_by: input.createdBy,
      title_ciphertext: await vault.data.sealString(requestTitleContext(input.tenantId, id), title),
      message_ciphertext: input.message ? await vault.data.sealString(requestMessageContext(input.tenantId, id), input.message) : null,
      signing_order: input.order, status: "draft", expires_at: new Date(Date.parse(input.expiresAt)).toISOString(), reminder_days: input.reminderDays ?? null,
      created_at: at, sent_at: null, finished_at: null, final_blob_key: null, final_size: null, final_sealed_size: null, seal_sha256: null, seal_ciphertext: null,
    }).execute();
    await trx.insertInto("signature_recipients").values(recipients).execute();
    if (fields.length) await trx.insertInto("signature_fields").values(fields).execute();
  });
  await recordEvidence(deps, { tenantId: input.tenantId, requestId: id, recipientId: null, event: "created", ip: input.ip, userAgent: input.userAgent }, now);
  return { id };
}
