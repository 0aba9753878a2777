// WebAuthn challenges: 256-bit, issued for one purpose and bound to the session (registration) or to
// the sign-in attempt (authentication), stored only as keyed hashes, usable once and for five minutes.
// The answer names its challenge inside clientDataJSON; it is found by hash and consumed before the
// signature is checked, so a failed answer burns it too.
import { AppError } from "../../errors/app-error.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { newPublicId, newToken } from "../auth/secret-tokens.ts";

export const webauthnChallengeMinutes = 5;
const maxClientDataLength = 4096;

type Binding =
  | { purpose: "registration"; userId: string; sessionId: string }
  | { purpose: "authentication"; userId: string; loginChallengeId: string };

function challengeHash(deps: Pick<IdentityDeps, "vault">, challenge: string): string {
  return deps.vault.mac("token", `webauthn-challenge:${challenge}`);
}

// A new challenge; any earlier unanswered one for the same session or sign-in attempt is dropped.
export async function issueWebauthnChallenge(deps: Pick<IdentityDeps, "db" | "vault">, binding: Binding, notAfter?: number): Promise<string> {
  const challenge = newToken();
  const now = Date.now();
  const expires = Math.min(now + webauthnChallengeMinutes * 60_000, notAfter ?? Number.POSITIVE_INFINITY);
  const sessionId = binding.purpose === "registration" ? binding.sessionId : null;
  const loginChallengeId = binding.purpose === "authentication" ? binding.loginChallengeId : null;
  let earlier = deps.db.deleteFrom("webauthn_challenges").where("user_id", "=", binding.userId).where("purpose", "=", binding.purpose);
  earlier = sessionId ? earlier.where("session_id", "=", sessionId) : earlier.where("login_challenge_id", "=", loginChallengeId);
  await earlier.execute();
  await deps.db.deleteFrom("webauthn_challenges").where("expires_at", "<", new Date(now).toISOString()).execute();
  await deps.db.insertInto("webauthn_challenges").values({
    id: newPublicId(),
    challenge_hash: challengeHash(deps, challenge),
    purpose: binding.purpose,
    user_id: binding.userId,
    session_id: sessionId,
    login_challenge_id: loginChallengeId,
    expires_at: new Date(expires).toISOString(),
    consumed_at: null,
    created_at: new Date(now).toISOString(),
  }).execute();
  return challenge;
}

// Consumes the challenge named in the answer's clientDataJSON if it was issued for this binding;
// returns it for the signature check, or refuses.
export async function consumeWebauthnChallenge(deps: Pick<IdentityDeps, "db" | "vault">, binding: Binding, clientDataJSON: string): Promise<string> {
  const invalid = new AppError("passkey_invalid", "the passkey answer does not match a current request: start again");
  const challenge = challengeIn(clientDataJSON);
  if (!challenge) throw invalid;
  let query = deps.db.selectFrom("webauthn_challenges").selectAll()
    .where("challenge_hash", "=", challengeHash(deps, challenge)).where("purpose", "=", binding.purpose).where("user_id", "=", binding.userId);
  query = binding.purpose === "registration" ? query.where("session_id", "=", binding.sessionId) : query.where("login_challenge_id", "=", binding.loginChallengeId);
  const row = await query.executeTakeFirst();
  if (!row || row.consumed_at || Date.parse(row.expires_at) <= Date.now()) throw invalid;
  const consumed = await deps.db.updateTable("webauthn_challenges").set({ consumed_at: new Date().toISOString() })
    .where("id", "=", row.id).where("consumed_at", "is", null).executeTakeFirst();
  if (Number(consumed.numUpdatedRows) !== 1) throw invalid;
  return challenge;
}

function challengeIn(clientDataJSON: string): string | undefined {
  if (typeof clientDataJSON !== "string" || clientDataJSON.length > maxClientDataLength) return undefined;
  try {
    const clientData = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")) as { challenge?: unknown };
    return typeof clientData.challenge === "string" && clientData.challenge.length <= 200 ? clientData.challenge : undefined;
  } catch {
    return undefined;
  }
}
