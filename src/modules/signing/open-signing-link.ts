// What a signing link opens, checked afresh on every request: the link must belong to a recipient of a
// request that is still out for signature and unexpired, who has not yet signed or declined. Every
// failure but a lock gets the same answer, so a dead link tells nothing of the request or why it died.
import { AppError } from "../../errors/app-error.ts";
import type { SigningDeps } from "./signing-deps.ts";
import type { RequestRow } from "./signing-policy.ts";
import { isSigningToken, signerSessionValid, signingTokenHash } from "./signing-secrets.ts";
import type { RecipientRow } from "./signing-turns.ts";

export type OpenSigningLink = { request: RequestRow; recipient: RecipientRow };

export async function findRecipientByToken(deps: Pick<SigningDeps, "db" | "vault">, token: unknown): Promise<RecipientRow | undefined> {
  if (!isSigningToken(token)) return undefined;
  return deps.db.selectFrom("signature_recipients").selectAll().where("token_hash", "=", signingTokenHash(deps.vault, token)).executeTakeFirst();
}

export const linkGone = () => new AppError("not_found", "this link is not valid: it may have expired, been used or been withdrawn");

export async function requireOpenSigningLink(deps: Pick<SigningDeps, "db">, recipient: RecipientRow | undefined, now = Date.now()): Promise<OpenSigningLink> {
  if (!recipient || recipient.status !== "sent" || recipient.role === "viewer") throw linkGone();
  const request = await deps.db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", recipient.tenant_id).where("id", "=", recipient.request_id).executeTakeFirst();
  if (!request || request.status !== "sent" || Date.parse(request.expires_at) <= now) throw linkGone();
  if (recipient.locked_at) throw new AppError("pin_locked", "too many wrong PINs: this link is locked; ask the sender for a new PIN");
  return { request, recipient };
}

// The signer's session, earned with the PIN, must come with every request past the PIN step.
export function requireSignerSession(deps: Pick<SigningDeps, "vault">, link: OpenSigningLink, session: unknown): void {
  if (!signerSessionValid(deps.vault, link.recipient.id, link.recipient.pin_hash, session)) {
    throw new AppError("pin_required", "enter the PIN first: POST it to …/pin and send the session in X-Signing-Session");
  }
}
