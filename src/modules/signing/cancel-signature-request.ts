// The sender withdraws a request that is not finished: every link stops working at once.
import { AppError } from "../../errors/app-error.ts";
import { recordEvidence } from "./record-evidence.ts";
import type { SigningDeps } from "./signing-deps.ts";
import type { RequestRow } from "./signing-policy.ts";

export async function cancelSignatureRequest(deps: SigningDeps, request: RequestRow, meta: { ip: string; userAgent: string | undefined }): Promise<void> {
  const now = new Date().toISOString();
  const changed = await deps.db.updateTable("signature_requests").set({ status: "cancelled", finished_at: now })
    .where("tenant_id", "=", request.tenant_id).where("id", "=", request.id).where("status", "in", ["draft", "sent"]).where("finished_at", "is", null).executeTakeFirst();
  if (Number(changed.numUpdatedRows) !== 1) throw new AppError("conflict", `this request is ${request.status === "sent" ? "being completed" : request.status}: it can no longer be cancelled`);
  await recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: null, event: "cancelled", ip: meta.ip, userAgent: meta.userAgent });
}

// A document emptied from the trash takes its open requests with it (their links stop working); a
// completed request keeps its sealed final PDF, the record of what was signed.
export async function cancelRequestsOfRemovedDocument(deps: SigningDeps, tenantId: string, documentId: string): Promise<number> {
  const open = await deps.db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", tenantId).where("document_id", "=", documentId)
    .where("status", "in", ["draft", "sent"]).limit(10_000).execute();
  let cancelled = 0;
  for (const request of open) {
    const changed = await deps.db.updateTable("signature_requests").set({ status: "cancelled", finished_at: new Date().toISOString() })
      .where("tenant_id", "=", tenantId).where("id", "=", request.id).where("status", "in", ["draft", "sent"]).executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) continue;
    cancelled++;
    await recordEvidence(deps, { tenantId, requestId: request.id, recipientId: null, event: "cancelled" });
  }
  return cancelled;
}
