// Sends a draft: the request becomes `sent` and the recipients whose turn it is get their link and PIN
// (everyone at once in parallel order, the first in sequential order). Later turns are notified by
// notifyDueRecipients when the one before them has signed.
import { AppError } from "../../errors/app-error.ts";
import { issueSigningLink } from "./issue-signing-link.ts";
import type { SigningDeps } from "./signing-deps.ts";
import type { RequestRow } from "./signing-policy.ts";
import { recipientsDue, type RecipientRow } from "./signing-turns.ts";

export function loadRecipients(deps: Pick<SigningDeps, "db">, request: { tenant_id: string; id: string }): Promise<RecipientRow[]> {
  return deps.db.selectFrom("signature_recipients").selectAll().where("tenant_id", "=", request.tenant_id).where("request_id", "=", request.id)
    .orderBy("order_index").orderBy("id").limit(100).execute();
}

export async function notifyDueRecipients(deps: SigningDeps, request: RequestRow, now = Date.now()): Promise<void> {
  for (const recipient of recipientsDue(request, await loadRecipients(deps, request))) await issueSigningLink(deps, request, recipient, "link", now);
}

export async function sendSignatureRequest(deps: SigningDeps, request: RequestRow, now = Date.now()): Promise<void> {
  if (request.status !== "draft") throw new AppError("conflict", `this request is ${request.status}: only a draft can be sent`);
  if (Date.parse(request.expires_at) <= now) throw new AppError("conflict", "this request's expiry has passed: create a new one");
  const claimed = await deps.db.updateTable("signature_requests").set({ status: "sent", sent_at: new Date(now).toISOString() })
    .where("tenant_id", "=", request.tenant_id).where("id", "=", request.id).where("status", "=", "draft").executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) throw new AppError("conflict", "this request was sent already");
  try {
    await notifyDueRecipients(deps, { ...request, status: "sent" }, now);
  } catch (error) {
    // Nothing half-sent: the draft can be sent again (links already issued are replaced then).
    await deps.db.updateTable("signature_recipients").set({ status: "waiting", token_hash: null, pin_hash: null, notified_at: null })
      .where("tenant_id", "=", request.tenant_id).where("request_id", "=", request.id).where("status", "=", "sent").execute();
    await deps.db.updateTable("signature_requests").set({ status: "draft", sent_at: null })
      .where("tenant_id", "=", request.tenant_id).where("id", "=", request.id).execute();
    throw error;
  }
}
