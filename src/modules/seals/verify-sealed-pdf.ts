// Answers "was this PDF sealed here?" from its SHA-256 (or from its bytes, streamed): sealed, when,
// which request, who signed, with the seal record, an inclusion proof and the signed tree head it
// proves against. A PDF that carries one of our signatures but whose hash is not a seal's was
// changed after sealing ("modified"); anything else is "not_sealed".
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Kysely } from "kysely";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { derPrefix, signatureRoomBytes } from "./pdf-signature-bytes.ts";
import { sealLeaf, sealRecordContext, verifySealRecordSignature } from "./seal-record.ts";
import type { SealRecord } from "./seal-types.ts";
import { latestTreeHead, proveInclusion, type InclusionProof, type SignedTreeHead } from "./transparency-log.ts";

export type VerifyDeps = { db: Kysely<DatabaseSchema>; vault: Vault };

/**
 * `seal` is null when the company's keys were destroyed (erasure): the file was sealed, its log entry
 * still proves it, but who signed can no longer be read.
 */
export type SealProof = { seal: SealRecord | null; erased: boolean; sealSignatureValid: boolean; inclusionProof: InclusionProof; treeHead: SignedTreeHead };

export type SealVerification =
  | ({ status: "sealed"; sha256: string } & SealProof)
  | ({ status: "modified"; sha256: string } & SealProof)
  | { status: "not_sealed"; sha256: string };

type SealRow = DatabaseSchema["seals"];

export async function verifySealedHash(deps: VerifyDeps, sha256: string): Promise<SealVerification> {
  const hash = sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new AppError("validation_failed", "sha256 must be 64 hexadecimal characters");
  const row = await deps.db.selectFrom("seals").selectAll().where("sha256", "=", hash).executeTakeFirst();
  if (!row) return { status: "not_sealed", sha256: hash };
  return { status: "sealed", sha256: hash, ...(await proofOf(deps, row)) };
}

/** Reads a PDF stream (at most `maxBytes`), hashing it and noting the signatures it carries. */
export async function verifySealedPdfStream(deps: VerifyDeps, body: Readable, maxBytes: number): Promise<SealVerification> {
  const hash = createHash("sha256");
  const scanner = createSignatureScanner();
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new AppError("payload_too_large", `the PDF is larger than ${maxBytes} bytes`);
    }
    hash.update(chunk);
    scanner.push(chunk);
  }
  if (size === 0) throw new AppError("validation_failed", "the request body is empty");
  const sha256 = hash.digest("hex");
  const byHash = await verifySealedHash(deps, sha256);
  if (byHash.status === "sealed") return byHash;
  for (const cms of scanner.signatures()) {
    const row = await deps.db.selectFrom("seals").selectAll().where("cms_sha256", "=", createHash("sha256").update(cms).digest("hex")).executeTakeFirst();
    if (row) return { status: "modified", sha256, ...(await proofOf(deps, row)) };
  }
  return { status: "not_sealed", sha256 };
}

/** The log leaf of the seal at `logIndex`, re-made from its stored record (for auditing the log). */
export async function storedSealLeaf(deps: VerifyDeps, logIndex: number): Promise<Buffer | "erased" | undefined> {
  const row = await deps.db.selectFrom("seals").selectAll().where("log_index", "=", logIndex).executeTakeFirst();
  if (!row) return undefined;
  const record = await openRecord(deps, row).catch((error: unknown) => {
    if (isAppError(error) && error.code === "key_not_found") return "erased" as const;
    throw error;
  });
  return record === "erased" ? record : sealLeaf(record);
}

async function proofOf(deps: VerifyDeps, row: SealRow): Promise<SealProof> {
  const seal = await openRecord(deps, row).catch((error: unknown) => {
    if (isAppError(error) && error.code === "key_not_found") return null;
    throw error;
  });
  const treeHead = await latestTreeHead(deps.db);
  if (!treeHead || treeHead.treeSize <= Number(row.log_index)) throw new AppError("storage_failed", "the transparency log has no tree head covering this seal");
  const inclusionProof = await proveInclusion(deps.db, Number(row.log_index), treeHead.treeSize);
  const sealSignatureValid = seal !== null && verifySealRecordSignature(seal, await deps.vault.serviceKey.publicKeys());
  return { seal, erased: seal === null, sealSignatureValid, inclusionProof, treeHead };
}

async function openRecord(deps: VerifyDeps, row: SealRow): Promise<SealRecord> {
  const text = await deps.vault.data.openString(sealRecordContext(row.tenant_id, row.request_id), row.record_ciphertext);
  return JSON.parse(text) as SealRecord;
}

const contentsMarker = Buffer.from("/Contents");
const maxCandidates = 16;

/**
 * Finds `/Contents <hex>` strings in a PDF as it streams past (signature values; annotation texts
 * can look the same, so several candidates are kept), without holding the file.
 */
export function createSignatureScanner() {
  const found: Buffer[] = [];
  let tail = Buffer.alloc(0);
  let capture: string[] | undefined;
  let captured = 0;
  const maxHex = signatureRoomBytes * 2;

  function finishCapture() {
    const hex = capture!.join("");
    capture = undefined;
    if (hex.length % 2 === 0 && found.length < maxCandidates) {
      const der = derPrefix(Buffer.from(hex, "hex"));
      if (der) found.push(der);
    }
  }

  function scan(buffer: Buffer, from: number): number {
    // Returns how many trailing bytes must be kept for a marker split across chunks.
    let position = from;
    while (position < buffer.length) {
      if (capture) {
        let end = position;
        while (end < buffer.length && isHex(buffer[end]!)) end++;
        captured += end - position;
        if (captured > maxHex) {
          capture = undefined;
        } else {
          capture.push(buffer.toString("latin1", position, end));
          if (end < buffer.length) finishCapture();
        }
        position = end + 1;
        if (end >= buffer.length) return 0;
        continue;
      }
      const at = buffer.indexOf(contentsMarker, position);
      if (at < 0) return Math.min(buffer.length - position, contentsMarker.length + 8);
      let next = at + contentsMarker.length;
      while (next < buffer.length && (buffer[next] === 0x20 || buffer[next] === 0x0a || buffer[next] === 0x0d)) next++;
      if (next >= buffer.length) return buffer.length - at;
      if (buffer[next] === 0x3c && found.length < maxCandidates) {
        capture = [];
        captured = 0;
        position = next + 1;
      } else {
        position = next;
      }
    }
    return 0;
  }

  return {
    push(chunk: Buffer) {
      const buffer = tail.length > 0 && !capture ? Buffer.concat([tail, chunk]) : chunk;
      const keep = scan(buffer, 0);
      tail = keep > 0 ? Buffer.from(buffer.subarray(buffer.length - keep)) : Buffer.alloc(0);
    },
    signatures(): Buffer[] {
      return found;
    },
  };
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
