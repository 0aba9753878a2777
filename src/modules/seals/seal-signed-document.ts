// Completion of a signature request: the final PDF (fields, signature page, certificate of
// completion) with the service's PAdES signature, its SHA-256 in a seal record signed with the
// service key, appended to the transparency log and stored (sealed under the company's key).
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { SecurityEvents } from "../monitoring/security-events.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { canonicalJson } from "./canonical-json.ts";
import { sealRecordContext, sealSignatureMessage } from "./seal-record.ts";
import type { SealInput, SealOptions, SealRecord, SealResult } from "./seal-types.ts";
import { appendToLog } from "./transparency-log.ts";

export type SealDeps = {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  /** When given, a failed seal raises a `seal_failure` security event (alerts, metrics). */
  events?: SecurityEvents | undefined;
};

export const sealLimits = {
  originalPdfBytes: 100 * 1024 * 1024,
  fields: 2_000,
  signers: 100,
  evidence: 10_000,
  textChars: 2_000,
  drawnSignatureChars: 2 * 1024 * 1024,
};

export async function sealSignedDocument(deps: SealDeps, input: SealInput, options: SealOptions = {}): Promise<SealResult> {
  try {
    return await seal(deps, input, options);
  } catch (error) {
    deps.events?.emit({
      type: "seal_failure",
      tenantId: input.tenantId,
      details: { requestId: input.requestId, error: isAppError(error) ? error.code : "internal_error" },
    });
    throw error;
  }
}

async function seal(deps: SealDeps, input: SealInput, options: SealOptions): Promise<SealResult> {
  checkSealInput(input);
  const existing = await deps.db.selectFrom("seals").select("request_id")
    .where("tenant_id", "=", input.tenantId).where("request_id", "=", input.requestId).executeTakeFirst();
  if (existing) throw new AppError("conflict", "this signature request is already sealed");

  const originalSha256 = sha256Hex(input.originalPdf);
  const sealedAt = new Date().toISOString();
  const prepared = await renderAndPrepare(input, { originalSha256, sealedAt });
  const { embedPadesSignature } = await import("./pades-signature.ts");
  const { pdf: finalPdf, cms } = await embedPadesSignature(prepared, deps.vault.documentSigningKey);
  const sha256 = sha256Hex(finalPdf);
  await options.beforeRecord?.(finalPdf, sha256);

  const { written: seal } = await appendToLog(deps, async (logIndex) => {
    const unsigned = {
      format: "strongroom-seal/v1" as const,
      sha256,
      originalSha256,
      requestId: input.requestId,
      tenantId: input.tenantId,
      signers: input.signers.map((signer) => ({ name: signer.name, email: signer.email, signedAt: signer.signedAt })),
      completedAt: input.completedAt,
      sealedAt,
      logIndex,
    };
    const { keyId, signature } = await deps.vault.serviceKey.sign(sealSignatureMessage(unsigned));
    const record: SealRecord = { ...unsigned, keyId, signature };
    const leaf = canonicalJson(record);
    const recordCiphertext = await deps.vault.data.sealString(sealRecordContext(input.tenantId, input.requestId), leaf);
    return {
      leaf: Buffer.from(leaf, "utf8"),
      async write(trx) {
        await trx.insertInto("seals").values({
          tenant_id: input.tenantId,
          request_id: input.requestId,
          sha256,
          cms_sha256: sha256Hex(cms),
          log_index: logIndex,
          sealed_at: sealedAt,
          record_ciphertext: recordCiphertext,
        }).execute();
        return record;
      },
    };
  });
  return { finalPdf, seal };
}

// The original's structure is only fully read while drawing and saving: a malformed object deep in
// it surfaces there, and is the input's fault, not a server error.
async function renderAndPrepare(input: SealInput, facts: { originalSha256: string; sealedAt: string }): Promise<Buffer> {
  // pdf-lib, pkijs and @signpdf (~260 modules) load with the first seal, not with the server.
  const [{ renderFinalPdf }, { addSignaturePlaceholder }] = await Promise.all([import("./render-final-pdf.ts"), import("./pades-signature.ts")]);
  try {
    const { pdfDoc, certificatePageIndex } = await renderFinalPdf(input, facts);
    addSignaturePlaceholder(pdfDoc, { pageIndex: certificatePageIndex, reason: `Sealed on completion of signature request ${input.requestId}`, signingTime: new Date(facts.sealedAt) });
    return Buffer.from(await pdfDoc.save({ useObjectStreams: false }));
  } catch (error) {
    if (isAppError(error)) throw error;
    throw new AppError("seal_input_invalid", "the original PDF could not be processed (it is damaged or uses features that cannot be re-saved)");
  }
}

function checkSealInput(input: SealInput): void {
  const fail = (message: string): never => {
    throw new AppError("seal_input_invalid", message);
  };
  if (input.originalPdf.byteLength === 0 || input.originalPdf.byteLength > sealLimits.originalPdfBytes) fail("the original PDF is empty or too large");
  if (input.signers.length === 0) fail("a seal needs at least one signer");
  if (input.signers.length > sealLimits.signers) fail(`at most ${sealLimits.signers} signers`);
  if (input.fields.length > sealLimits.fields) fail(`at most ${sealLimits.fields} fields`);
  if (input.evidence.length > sealLimits.evidence) fail(`at most ${sealLimits.evidence} evidence steps`);
  for (const text of [input.title, input.requestId, input.tenantId, input.completedAt]) {
    if (text.length === 0 || text.length > sealLimits.textChars) fail("title, request id, tenant id and completion time must be 1 to 2,000 characters");
  }
  for (const signer of input.signers) {
    for (const text of [signer.name, signer.email, signer.signedAt, signer.ip, signer.userAgent]) {
      if (text.length > sealLimits.textChars) fail("a signer's details are too long");
    }
  }
  for (const step of input.evidence) {
    for (const text of [step.at, step.event, step.recipientName ?? "", step.ip ?? "", step.userAgent ?? ""]) {
      if (text.length > sealLimits.textChars) fail("an evidence step is too long");
    }
  }
  for (const field of input.fields) {
    const numbers = [field.x, field.y, field.width, field.height];
    if (!Number.isInteger(field.page) || field.page < -1) fail("a field's page must be -1 or a page index");
    if (numbers.some((n) => !Number.isFinite(n)) || field.width <= 0 || field.height <= 0 || field.width > 5_000 || field.height > 5_000) fail("a field's box is not a finite positive rectangle");
    const limit = field.kind === "signature" && field.value.startsWith("data:") ? sealLimits.drawnSignatureChars : sealLimits.textChars;
    if (field.value.length > limit) fail("a field's value is too long");
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
