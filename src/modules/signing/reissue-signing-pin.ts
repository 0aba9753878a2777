// The sender gives a locked recipient a new PIN (by the second channel again); the link stays the same
// and works again, with five fresh attempts.
import { AppError } from "../../errors/app-error.ts";
import { issueSigningLink } from "./issue-signing-link.ts";
import type { SigningDeps } from "./signing-deps.ts";
import type { RequestRow } from "./signing-policy.ts";

export async function reissueSigningPin(deps: SigningDeps, request: RequestRow, recipientId: string): Promise<void> {
  if (request.status !== "sent") throw new AppError("conflict", `this request is ${request.status}`);
  const recipient = await deps.db.selectFrom("signature_recipients").selectAll().where("tenant_id", "=", request.tenant_id).where("request_id", "=", request.id)
    .where("id", "=", recipientId).executeTakeFirst();
  if (!recipient) throw new AppError("not_found", "no such recipient");
  if (recipient.status !== "sent") throw new AppError("conflict", "this recipient has no open link");
  if (!recipient.locked_at) throw new AppError("conflict", "this recipient's link is not locked");
  await issueSigningLink(deps, request, recipient, "pin");
}
