// The signed, sealed final PDF of a completed request, decrypted on its way out of the blob store.
import type { Readable } from "node:stream";
import { AppError } from "../../errors/app-error.ts";
import { readThrough } from "../../store/blob-store.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { finalPdfContext } from "./signing-fields.ts";
import type { RequestRow } from "./signing-policy.ts";

export async function openFinalPdf(deps: Pick<SigningDeps, "vault" | "blobStore">, request: RequestRow): Promise<Readable> {
  if (request.status !== "completed" || !request.final_blob_key) throw new AppError("conflict", `this request is ${request.status}: there is no signed document yet`);
  return readThrough(await deps.blobStore.get(request.final_blob_key), deps.vault.data.createOpenStream(finalPdfContext(request.tenant_id, request.id)));
}
