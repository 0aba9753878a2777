// The passkey as the second step of a sign-in: options with a challenge bound to this sign-in attempt
// and listing only the user's own passkeys, then the assertion, checked for origin, relying party,
// signature and a counter that must move forward. Any failure counts against the attempt's limit.
import { generateAuthenticationOptions, verifyAuthenticationResponse, type AuthenticationResponseJSON, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { AppError } from "../../errors/app-error.ts";
import type { ClientInfo } from "../auth/log-in.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { completeSignIn, countWrongAnswer, openLoginChallenge, type VerifiedSignIn } from "../auth/verify-sign-in-code.ts";
import { maxPasskeysPerUser } from "./passkeys.ts";
import { relyingPartyOf } from "./relying-party.ts";
import { consumeWebauthnChallenge, issueWebauthnChallenge } from "./webauthn-challenges.ts";

export async function passkeySignInOptions(deps: IdentityDeps, challengeToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const attempt = await openLoginChallenge(deps, challengeToken);
  const credentials = await deps.db.selectFrom("webauthn_credentials").select(["credential_id", "transports"])
    .where("user_id", "=", attempt.user_id).limit(maxPasskeysPerUser).execute();
  if (credentials.length === 0) throw new AppError("second_factor_unavailable", "this account has no passkey");
  const challenge = await issueWebauthnChallenge(deps, { purpose: "authentication", userId: attempt.user_id, loginChallengeId: attempt.id }, Date.parse(attempt.expires_at));
  return generateAuthenticationOptions({
    rpID: relyingPartyOf(deps.publicUrl).id,
    challenge: Buffer.from(challenge, "base64url"),
    timeout: 5 * 60_000,
    userVerification: "preferred",
    allowCredentials: credentials.map((credential) => ({ id: credential.credential_id, transports: JSON.parse(credential.transports) as string[] })),
  });
}

export async function signInWithPasskey(deps: IdentityDeps, challengeToken: string, response: AuthenticationResponseJSON, client: Omit<ClientInfo, "deviceCookie">): Promise<VerifiedSignIn> {
  const attempt = await openLoginChallenge(deps, challengeToken);
  const refuse = () => countWrongAnswer(deps, attempt, "passkey_invalid", "the passkey could not be verified");
  const challenge = await consumeWebauthnChallenge(deps, { purpose: "authentication", userId: attempt.user_id, loginChallengeId: attempt.id }, response.response.clientDataJSON)
    .catch(() => undefined);
  if (!challenge) return refuse();
  // Only the signing-in user's own passkeys count: another account's credential is simply unknown here.
  const credential = await deps.db.selectFrom("webauthn_credentials").selectAll()
    .where("credential_id", "=", response.id).where("user_id", "=", attempt.user_id).executeTakeFirst();
  if (!credential) return refuse();
  const party = relyingPartyOf(deps.publicUrl);
  const verified = await verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: party.origin,
    expectedRPID: party.id,
    credential: { id: credential.credential_id, publicKey: new Uint8Array(credential.public_key), counter: credential.counter, transports: JSON.parse(credential.transports) },
    requireUserVerification: false,
  }).catch(() => undefined);
  if (!verified?.verified) return refuse();
  // The counter moves only forward, and only once per value even if two answers race.
  const counted = await deps.db.updateTable("webauthn_credentials").set({ counter: verified.authenticationInfo.newCounter, last_used_at: new Date().toISOString() })
    .where("credential_id", "=", credential.credential_id).where("counter", "=", credential.counter).executeTakeFirst();
  if (Number(counted.numUpdatedRows) !== 1) return refuse();
  return completeSignIn(deps, attempt, "passkey", client);
}
