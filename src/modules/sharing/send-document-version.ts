// Answers a download of one stored version: the whole file or one byte range, decrypted on the way
// out, as an attachment (never rendered on this origin). Shared by share links and support reads.
import type { FastifyReply } from "fastify";
import type { Selectable } from "kysely";
import type { DocumentVersionsTable } from "../../store/schema.ts";
import { filenameContext, openVersion, parseRange, type ContentDeps } from "../documents/document-content.ts";

export async function sendDocumentVersion(
  reply: FastifyReply,
  deps: Pick<ContentDeps, "vault" | "blobStore">,
  row: Selectable<DocumentVersionsTable>,
  input: { rangeHeader: string | undefined; fallbackName: string },
): Promise<FastifyReply> {
  const size = Number(row.size);
  let range;
  try {
    range = parseRange(input.rangeHeader, size);
  } catch (error) {
    reply.header("content-range", `bytes */${size}`);
    throw error;
  }
  // The file name before the stream: a stream left unsent because a later step failed would report
  // its own failure to no one, as an uncaught error.
  const filename = row.filename_ciphertext
    ? await deps.vault.data.openString(filenameContext(row.tenant_id, row.document_id, row.version), row.filename_ciphertext)
    : input.fallbackName;
  const stream = await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, range);
  reply.header("accept-ranges", "bytes");
  reply.header("content-type", row.content_type);
  reply.header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`);
  reply.header("x-document-version", String(row.version));
  if (range) {
    reply.code(206).header("content-range", `bytes ${range.start}-${range.end}/${size}`).header("content-length", String(range.end - range.start + 1));
  } else {
    reply.header("content-length", String(size));
  }
  return reply.send(stream);
}
