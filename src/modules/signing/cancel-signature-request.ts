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
