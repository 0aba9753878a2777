// A signer fills their fields and signs, or an approver approves, in their turn and after consenting
// to sign electronically. The values are sealed; the recipient is marked signed once (atomically), and
// the request moves on: the next signer's link goes out, or, after the last, the request is completed.
import { AppError } from "../../errors/app-error.ts";
import type { SignatureFieldsTable } from "../../store/schema.ts";
import type { Selectable } from "kysely";
import { completeSignatureRequest } from "./complete-signature-request.ts";
import type { OpenSigningLink } from "./open-signing-link.ts";
import { recordEvidence } from "./record-evidence.ts";
import { loadRecipients, notifyDueRecipients } from "./send-signature-request.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { fieldValueContext } from "./signing-fields.ts";
import { allHaveSigned, isTurnOf } from "./signing-turns.ts";

export const maxTextValueLength = 500;
export const maxTypedSignatureLength = 200;
export const maxDrawnSignatureBytes = 256 * 1024;
const pngMagic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngDataUrl = /^data:image\/png;base64,([A-Za-z0-9+/]+={0,2})$/;

export type FieldRow = Selectable<SignatureFieldsTable>;
export type FilledValue = { fieldId: string; value: string };
type Meta = { ip: string; userAgent: string | undefined };

export function loadFieldsOf(deps: Pick<SigningDeps, "db">, tenantId: string, requestId: string) {
  return deps.db.selectFrom("signature_fields").selectAll().where("tenant_id", "=", tenantId).where("request_id", "=", requestId).orderBy("page").orderBy("id").limit(1000).execute();
}

// Checks one value against its field's kind; returns it normalised.
export function checkFieldValue(field: FieldRow, raw: string): string {
  const invalid = (message: string) => new AppError("validation_failed", `field ${field.id} (${field.kind}): ${message}`);
  const value = field.kind === "checkbox" ? raw : raw.trim();
  switch (field.kind) {
    case "checkbox":
      if (value !== "true" && value !== "false") throw invalid('a checkbox is "true" or "false"');
      return value;
    case "signature": {
      const drawn = pngDataUrl.exec(value);
      if (value.startsWith("data:")) {
        if (!drawn || value.length > Math.ceil(maxDrawnSignatureBytes * 4 / 3) + 30) throw invalid(`a drawn signature is a PNG data: URL of at most ${maxDrawnSignatureBytes} bytes`);
        const bytes = Buffer.from(drawn[1]!, "base64");
        if (bytes.length > maxDrawnSignatureBytes || !bytes.subarray(0, 8).equals(pngMagic)) throw invalid("a drawn signature must be a PNG image");
        return value;
      }
      if (value.length > maxTypedSignatureLength) throw invalid(`a typed signature has at most ${maxTypedSignatureLength} characters`);
      return value;
    }
    default:
      if (value.length > maxTextValueLength) throw invalid(`at most ${maxTextValueLength} characters`);
      return value;
  }
}

export async function signAsRecipient(deps: SigningDeps, link: OpenSigningLink, values: FilledValue[], meta: Meta): Promise<{ status: "signed" | "completed" }> {
  const { db, vault } = deps;
  const { request, recipient } = link;
  const recipients = await loadRecipients(deps, request);
  if (!isTurnOf(request, recipients, recipient)) throw new AppError("not_your_turn", "it is not your turn yet: the signers before you must sign first");
  if (!recipient.consent_at) throw new AppError("consent_required", "first agree to sign electronically (POST …/consent)");
  const mine = (await loadFieldsOf(deps, request.tenant_id, request.id)).filter((field) => field.recipient_id === recipient.id);
  const byId = new Map(mine.map((field) => [field.id, field]));
  const given = new Map<string, string>();
  for (const { fieldId, value } of values) {
    const field = byId.get(fieldId);
    if (!field) throw new AppError("validation_failed", `field ${fieldId} is not one of yours`);
    if (given.has(fieldId)) throw new AppError("validation_failed", `field ${fieldId} is given twice`);
    given.set(fieldId, checkFieldValue(field, value));
  }
  // A required checkbox must be ticked; any other required field must have a value.
  const missing = mine.filter((field) => field.required && (field.kind === "checkbox" ? given.get(field.id) !== "true" : !(given.get(field.id) ?? "").length));
  if (missing.length) throw new AppError("fields_incomplete", `${missing.length} required ${missing.length === 1 ? "field is" : "fields are"} not filled`, { fieldIds: missing.map((field) => field.id) });

  // Sealed before the transaction: the vault may need the database for the company's key.
  const sealed = await Promise.all([...given].map(async ([fieldId, value]) => ({ fieldId, ciphertext: await vault.data.sealString(fieldValueContext(request.tenant_id, fieldId), value) })));
  const now = new Date().toISOString();
  await db.transaction().execute(async (trx) => {
    const claimed = await trx.updateTable("signature_recipients")
      .set({ status: "signed", signed_at: now, signed_ip: meta.ip, signed_user_agent: meta.userAgent?.slice(0, 512) ?? null })
      .where("tenant_id", "=", recipient.tenant_id).where("id", "=", recipient.id).where("status", "=", "sent").executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw new AppError("conflict", "you have already signed");
    for (const { fieldId, ciphertext } of sealed) {
      await trx.updateTable("signature_fields").set({ value_ciphertext: ciphertext }).where("tenant_id", "=", request.tenant_id).where("id", "=", fieldId).execute();
    }
  });
  await recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: recipient.id, event: recipient.role === "approver" ? "approved" : "signed", ip: meta.ip, userAgent: meta.userAgent });

  const after = await loadRecipients(deps, request);
  if (allHaveSigned(after)) {
    const completed = await completeSignatureRequest(deps, request.tenant_id, request.id);
    return { status: completed ? "completed" : "signed" };
  }
  // The signature stands even if the next link cannot be sent now: the scheduler sends it later.
  await notifyDueRecipients(deps, request).catch(() => undefined);
  return { status: "signed" };
}
