// Streaming a document version in and out: the bytes go through the vault's chunked AES-256-GCM on
// their way to and from the blob store, so storage only ever holds ciphertext, an upload never sits in
// memory, and a Range request decrypts only the chunks it needs. A version becomes visible only when
// its upload completed; anything else is removed.
import { randomBytes } from "node:crypto";
import { PassThrough, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import { readThrough, type BlobStore } from "../../store/blob-store.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";

export type ContentDeps = { db: Kysely<DatabaseSchema>; vault: Vault; blobStore: BlobStore; maxUploadBytes: number; scan?: UploadScanner | undefined };

// Streams the bytes through a malware scanner; `verdict` settles after the stream ends.
export type UploadScanner = () => { stream: Transform; verdict: Promise<{ clean: true } | { clean: false; signature: string }> };

export function contentContext(tenantId: string, documentId: string, version: number) {
  return { tenantId, objectType: "document_content", objectId: documentId, objectVersion: version };
}

export function filenameContext(tenantId: string, documentId: string, version: number) {
  return { tenantId, objectType: "document_version", objectId: documentId, objectVersion: version, field: "filename" };
}

function sizeLimit(maxBytes: number): Transform & { bytes: number } {
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      limiter.bytes += chunk.length;
      if (limiter.bytes > maxBytes) callback(new AppError("payload_too_large", `the upload is larger than the limit of ${maxBytes} bytes`));
      else callback(null, chunk);
    },
  }) as Transform & { bytes: number };
  limiter.bytes = 0;
  return limiter;
}

export type NewVersion = {
  tenantId: string;
  documentId: string;
  baseVersion: number;
  body: Readable;
  contentType: string;
  filename: string | null;
  userId: string;
};

export async function storeNewVersion(deps: ContentDeps, input: NewVersion): Promise<{ version: number; size: number }> {
  const { db, vault, blobStore } = deps;
  const last = await db.selectFrom("document_versions").select((eb) => eb.fn.max("version").as("max"))
    .where("tenant_id", "=", input.tenantId).where("document_id", "=", input.documentId).executeTakeFirst();
  const version = Number(last?.max ?? 0) + 1;
  const blobKey = `t/${input.tenantId}/d/${input.documentId}/v${version}-${randomBytes(8).toString("hex")}`;
  const now = new Date().toISOString();
  try {
    await db.insertInto("document_versions").values({
      tenant_id: input.tenantId, document_id: input.documentId, version, blob_key: blobKey, content_type: input.contentType,
      filename_ciphertext: input.filename ? await vault.data.sealString(filenameContext(input.tenantId, input.documentId, version), input.filename) : null,
      created_by: input.userId, created_at: now, state: "uploading",
    }).execute();
  } catch {
    input.body.resume();
    throw new AppError("conflict", "another upload to this document is in progress: try again");
  }

  let stored = false;
  try {
    const limiter = sizeLimit(deps.maxUploadBytes);
    const scan = deps.scan?.();
    const sealing = await vault.data.createSealStream(contentContext(input.tenantId, input.documentId, version));
    const sink = new PassThrough();
    const put = blobStore.put(blobKey, sink);
    await Promise.all([
      pipeline([input.body, limiter, ...(scan ? [scan.stream] : []), sealing, sink]),
      put,
    ]).then(() => { stored = true; });
    if (scan) {
      const verdict = await scan.verdict;
      if (!verdict.clean) throw new AppError("malware_detected", `the file is infected (${verdict.signature}) and was not stored`, { signature: verdict.signature });
    }
    const stat = await blobStore.stat(blobKey);
    const committed = await db.transaction().execute(async (trx) => {
      await trx.updateTable("document_versions").set({ state: "complete", size: limiter.bytes, sealed_size: stat?.size ?? 0 })
        .where("tenant_id", "=", input.tenantId).where("document_id", "=", input.documentId).where("version", "=", version).execute();
      const moved = await trx.updateTable("documents").set({ current_version: version, updated_at: new Date().toISOString() })
        .where("tenant_id", "=", input.tenantId).where("id", "=", input.documentId).where("current_version", "=", input.baseVersion).executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) throw new AppError("conflict", "the document changed since version " + input.baseVersion + ": reload and try again");
      return true;
    });
    if (!committed) throw new AppError("conflict", "the document changed: reload and try again");
    return { version, size: limiter.bytes };
  } catch (error) {
    input.body.resume();
    await blobStore.delete(blobKey).catch(() => undefined);
    await db.deleteFrom("document_versions").where("tenant_id", "=", input.tenantId).where("document_id", "=", input.documentId)
      .where("version", "=", version).where("state", "=", "uploading").execute().catch(() => undefined);
    if (!stored && (error as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE") throw new AppError("bad_request", "the upload was interrupted");
    throw error;
  }
}

export type ByteRange = { start: number; end: number };

// Parses a single-range `Range: bytes=…` header against the plaintext size; undefined = whole file.
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const unsatisfiable = new AppError("range_not_satisfiable", "the requested range is not within the file", { size });
  if (!match || (match[1] === "" && match[2] === "")) throw unsatisfiable;
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) throw unsatisfiable;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end || start >= size) throw unsatisfiable;
  return { start, end };
}

export async function openVersion(deps: Pick<ContentDeps, "vault" | "blobStore">, row: { tenant_id: string; document_id: string; version: number; blob_key: string; sealed_size: number }, range: ByteRange | undefined): Promise<Readable> {
  const context = contentContext(row.tenant_id, row.document_id, row.version);
  if (range) {
    return deps.vault.data.openRange(context, (start, end) => deps.blobStore.get(row.blob_key, { start, end }), Number(row.sealed_size), range);
  }
  return readThrough(await deps.blobStore.get(row.blob_key), deps.vault.data.createOpenStream(context));
}

// Start-up: versions whose upload never finished (a crash, a killed process) leave nothing behind.
export async function removeAbandonedUploads(db: Kysely<DatabaseSchema>, blobStore: BlobStore, olderThanMs = 0): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanMs).toISOString();
  const abandoned = await db.selectFrom("document_versions").select(["tenant_id", "document_id", "version", "blob_key"])
    .where("state", "=", "uploading").where("created_at", "<=", cutoff).limit(10_000).execute();
  for (const row of abandoned) {
    await blobStore.delete(row.blob_key).catch(() => undefined);
    await db.deleteFrom("document_versions").where("tenant_id", "=", row.tenant_id).where("document_id", "=", row.document_id).where("version", "=", row.version).execute();
  }
  return abandoned.length;
}
