// Completes a request whose signers and approvers have all acted: gathers the original PDF, the filled
// fields, the signers and the evidence, has the seal made (modules/seals: final PDF with a certificate
// of completion, PAdES signature, SHA-256 seal record), stores the final PDF encrypted beside the
// request and the seal record sealed, marks the request completed and e-mails every party the final
// PDF. One node completes a request at a time (a claim on finished_at); a failed seal leaves the
// request `sent` with its signatures, records the failure and is retried by the scheduler.
import { createHash } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../../errors/app-error.ts";
import { readThrough } from "../../store/blob-store.ts";
import { openUserField } from "../accounts/user-fields.ts";
import { openVersion } from "../documents/document-content.ts";
import { maxAttachmentBytes } from "../messages/message.ts";
import { sealRecordContext as sealRecordOfSeals } from "../seals/seal-record.ts";
import type { EvidenceStep, FilledField, SealInput, SealRecord, SealSigner } from "../seals/seal-types.ts";
import { recordEvidence } from "./record-evidence.ts";
import { loadRecipients } from "./send-signature-request.ts";
import { loadFieldsOf } from "./sign-as-recipient.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { fieldValueContext, finalPdfContext, openContact, openRequestTitle, sealRecordContext, type Contact } from "./signing-fields.ts";
import type { RequestRow } from "./signing-policy.ts";
import { allHaveSigned } from "./signing-turns.ts";

// A claim older than this is taken to be a crashed node's and may be retried.
export const completionClaimMs = 10 * 60_000;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function finalPdfName(title: string): string {
  const base = title.replace(/[^\p{L}\p{N} ._-]+/gu, " ").replace(/\s+/g, " ").trim().slice(0, 100) || "document";
  return `${base.replace(/\.pdf$/i, "")} (signed).pdf`;
}

async function gatherSealInput(deps: SigningDeps, request: RequestRow, completedAt: string): Promise<{ input: SealInput; contacts: Map<string, Contact> }> {
  const { db, vault } = deps;
  const version = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", request.tenant_id).where("document_id", "=", request.document_id)
    .where("version", "=", request.document_version).where("state", "=", "complete").executeTakeFirst();
  if (!version) throw new AppError("not_found", "the document version being signed no longer exists");
  const originalPdf = await readAll(await openVersion(deps, { ...version, sealed_size: Number(version.sealed_size) }, undefined));
  const recipients = await loadRecipients(deps, request);
  const contacts = new Map<string, Contact>();
  for (const recipient of recipients) contacts.set(recipient.id, await openContact(vault, recipient));
  const fields: FilledField[] = [];
  for (const field of await loadFieldsOf(deps, request.tenant_id, request.id)) {
    if (!field.value_ciphertext) continue;
    fields.push({
      recipientId: field.recipient_id, kind: field.kind, page: field.page, x: field.x, y: field.y, width: field.width, height: field.height,
      value: await vault.data.openString(fieldValueContext(request.tenant_id, field.id), field.value_ciphertext),
    });
  }
  const signers: SealSigner[] = recipients.filter((recipient) => recipient.role !== "viewer").map((recipient) => ({
    recipientId: recipient.id, name: contacts.get(recipient.id)!.name, email: contacts.get(recipient.id)!.email, role: recipient.role as "signer" | "approver",
    signedAt: recipient.signed_at ?? completedAt, ip: recipient.signed_ip ?? "", userAgent: recipient.signed_user_agent ?? "",
  }));
  const rows = await db.selectFrom("signature_evidence").selectAll().where("tenant_id", "=", request.tenant_id).where("request_id", "=", request.id)
    .orderBy("id").limit(9_000).execute();
  const evidence: EvidenceStep[] = rows.map((row) => ({
    at: row.at, event: row.event, recipientName: row.recipient_id ? contacts.get(row.recipient_id)?.name ?? null : null, ip: row.ip, userAgent: row.user_agent,
  }));
  evidence.push({ at: completedAt, event: "completed", recipientName: null, ip: null, userAgent: null });
  return {
    input: { tenantId: request.tenant_id, requestId: request.id, title: await openRequestTitle(vault, request), originalPdf, fields, signers, evidence, completedAt },
    contacts,
  };
}

// Named by the final PDF's hash, so a completion interrupted after its seal was recorded finds it again.
const finalBlobKey = (request: RequestRow, sha256: string) => `t/${request.tenant_id}/s/${request.id}/final-${sha256}`;

async function storeFinalPdf(deps: SigningDeps, request: RequestRow, finalPdf: Buffer, sha256: string): Promise<{ blobKey: string; sealedSize: number }> {
  const blobKey = finalBlobKey(request, sha256);
  const sealing = await deps.vault.data.createSealStream(finalPdfContext(request.tenant_id, request.id));
  const sink = new PassThrough();
  try {
    await Promise.all([pipeline([Readable.from([finalPdf]), sealing, sink]), deps.blobStore.put(blobKey, sink)]);
  } catch (error) {
    await deps.blobStore.delete(blobKey).catch(() => undefined);
    throw error;
  }
  return { blobKey, sealedSize: (await deps.blobStore.stat(blobKey))?.size ?? 0 };
}

// true when this call completed the request.
export async function completeSignatureRequest(deps: SigningDeps, tenantId: string, requestId: string, now = Date.now()): Promise<boolean> {
  const { db, vault } = deps;
  const request = await db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", tenantId).where("id", "=", requestId).executeTakeFirst();
  if (!request || request.status !== "sent" || !allHaveSigned(await loadRecipients(deps, request))) return false;
  const completedAt = new Date(now).toISOString();
  const staleClaim = new Date(now - completionClaimMs).toISOString();
  const thisRequest = () => db.updateTable("signature_requests").where("tenant_id", "=", tenantId).where("id", "=", requestId).where("status", "=", "sent");
  const claim = await thisRequest().set({ finished_at: completedAt })
    .where((eb) => eb.or([eb("finished_at", "is", null), eb("finished_at", "<", staleClaim)])).executeTakeFirst();
  if (Number(claim.numUpdatedRows) !== 1) return false;

  let stored: { blobKey: string; sealedSize: number } | undefined;
  let sealRecorded = false;
  const storeWithRetries = async (finalPdf: Buffer, sha256: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await storeFinalPdf(deps, request, finalPdf, sha256);
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };
  try {
    if (!deps.sealSignedDocument) throw new AppError("config_invalid", "no document seal is configured: the request waits for it");
    const { input, contacts } = await gatherSealInput(deps, request, completedAt);
    // A seal recorded by an earlier, interrupted completion: its final PDF was stored before it.
    const earlier = await resumeRecordedSeal(deps, request);
    let finalPdf: Buffer;
    let seal: SealRecord;
    if (earlier) {
      ({ finalPdf, seal } = earlier);
      stored = { blobKey: earlier.blobKey, sealedSize: earlier.sealedSize };
      sealRecorded = true;
    } else {
      // The final PDF is stored before the seal is recorded, so a recorded seal always has its PDF.
      ({ finalPdf, seal } = await deps.sealSignedDocument(input, { beforeRecord: async (pdf, sha256) => { stored = await storeWithRetries(pdf, sha256); } }));
      sealRecorded = true;
      stored ??= await storeWithRetries(finalPdf, seal.sha256);
    }
    const sealCiphertext = await vault.data.sealString(sealRecordContext(tenantId, requestId), JSON.stringify(seal));
    const done = await thisRequest().set({
      status: "completed", finished_at: completedAt, final_blob_key: stored.blobKey, final_size: finalPdf.length, final_sealed_size: stored.sealedSize,
      seal_sha256: seal.sha256, seal_ciphertext: sealCiphertext,
    }).where("finished_at", "=", completedAt).executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) throw new AppError("conflict", "the request changed while it was being sealed");
    await recordEvidence(deps, { tenantId, requestId, recipientId: null, event: "completed" }, now);
    await sendFinalPdf(deps, { ...request, status: "completed" }, input.title, finalPdf, contacts);
    return true;
  } catch (error) {
    deps.log?.error({ err: error, tenantId, requestId, event: "seal_failed" }, "the signed document could not be sealed; the request waits for a retry");
    // Once the seal is recorded its final PDF stays: the next try completes with it. If that cannot be
    // told, the PDF stays too (an orphan blob is better than a seal without its PDF).
    if (stored && !sealRecorded) {
      const recorded = await db.selectFrom("seals").select("request_id").where("tenant_id", "=", tenantId).where("request_id", "=", requestId)
        .executeTakeFirst().then((row) => row !== undefined, () => true);
      if (!recorded) await deps.blobStore.delete(stored.blobKey).catch(() => undefined);
    }
    await thisRequest().set({ finished_at: null }).where("finished_at", "=", completedAt).execute();
    await recordEvidence(deps, { tenantId, requestId, recipientId: null, event: "seal_failed" }).catch(() => undefined);
    deps.onSealFailure?.(tenantId, requestId);
    return false;
  }
}

// A seal already recorded for this request (a completion that stopped after it): its record and the
// final PDF stored under its hash, or undefined if there is none.
async function resumeRecordedSeal(deps: SigningDeps, request: RequestRow): Promise<{ finalPdf: Buffer; seal: SealRecord; blobKey: string; sealedSize: number } | undefined> {
  const row = await deps.db.selectFrom("seals").select(["sha256", "record_ciphertext"])
    .where("tenant_id", "=", request.tenant_id).where("request_id", "=", request.id).executeTakeFirst();
  if (!row) return undefined;
  const blobKey = finalBlobKey(request, row.sha256);
  const sealedSize = (await deps.blobStore.stat(blobKey))?.size;
  if (sealedSize === undefined) throw new AppError("conflict", "this request's seal is recorded but its final PDF is missing");
  const seal = JSON.parse(await deps.vault.data.openString(sealRecordOfSeals(request.tenant_id, request.id), row.record_ciphertext)) as SealRecord;
  const opened = readThrough(await deps.blobStore.get(blobKey), deps.vault.data.createOpenStream(finalPdfContext(request.tenant_id, request.id)));
  const chunks: Buffer[] = [];
  for await (const chunk of opened) chunks.push(chunk as Buffer);
  const finalPdf = Buffer.concat(chunks);
  if (createHash("sha256").update(finalPdf).digest("hex") !== row.sha256) throw new AppError("conflict", "this request's stored final PDF does not match its seal");
  return { finalPdf, seal, blobKey, sealedSize };
}

// Every party (signers, approvers, viewers and the sender) gets the final PDF; a file too large to
// attach is announced instead. A failed e-mail does not undo the completion.
async function sendFinalPdf(deps: SigningDeps, request: RequestRow, title: string, finalPdf: Buffer, contacts: Map<string, Contact>): Promise<void> {
  const to: { email: string; name: string; recipientId: string | null }[] = [...contacts].map(([recipientId, contact]) => ({ email: contact.email, name: contact.name, recipientId }));
  const sender = await deps.db.selectFrom("users").select(["id", "email_ciphertext"]).where("id", "=", request.created_by).executeTakeFirst();
  if (sender) {
    const email = await openUserField(deps.vault, sender.id, "email", sender.email_ciphertext).catch(() => undefined);
    if (email && !to.some((party) => party.email.toLowerCase() === email.toLowerCase())) to.push({ email, name: "", recipientId: null });
  }
  const attach = finalPdf.length <= maxAttachmentBytes;
  for (const party of to) {
    try {
      await deps.messages.send({
        channel: "email", to: party.email, purpose: "signing_completed", subject: `Signed: "${title}"`,
        text: `${party.name ? `Hello ${party.name},\n\n` : ""}"${title}" has been signed by everyone and sealed.\n\n` +
          (attach ? "The signed document is attached. Its seal can be verified on the service's verification page.\n" : "The signed document is too large to attach: ask the sender for it.\n"),
        ...(attach ? { attachments: [{ filename: finalPdfName(title), contentType: "application/pdf", content: finalPdf }] } : {}),
      });
      await recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: party.recipientId, event: "final_sent" });
    } catch {
      // Recorded by its absence: the request's evidence shows who was sent the final PDF.
    }
  }
}
