// Adding a passkey for a signed-in user: options carrying a challenge bound to this session, then the
// authenticator's attestation ("none" is enough: a passkey proves possession, not its maker), checked
// by @simplewebauthn/server against our origin and relying party id.
import { generateRegistrationOptions, verifyRegistrationResponse, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON } from "@simplewebauthn/server";
import { AppError } from "../../errors/app-error.ts";
import { openUserField } from "../accounts/user-fields.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import type { SessionRow } from "../auth/sessions.ts";
import { maxPasskeysPerUser, passkeyIdOf, type PasskeyView } from "./passkeys.ts";
import { relyingPartyOf } from "./relying-party.ts";
import { consumeWebauthnChallenge, issueWebauthnChallenge } from "./webauthn-challenges.ts";

const knownTransports = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);
// EdDSA, ES256 and RS256: what authenticators offer; named so no experimental algorithm is probed for.
const supportedAlgorithmIDs = [-8, -7, -257];

export async function passkeyRegistrationOptions(deps: IdentityDeps, session: SessionRow): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const user = await createUserRepository(deps.db).findById(session.user_id);
  if (!user) throw new AppError("session_required", "sign in first");
  const existing = await deps.db.selectFrom("webauthn_credentials").select(["credential_id", "transports"]).where("user_id", "=", user.id).limit(maxPasskeysPerUser + 1).execute();
  if (existing.length >= maxPasskeysPerUser) throw new AppError("conflict", `at most ${maxPasskeysPerUser} passkeys per account: delete one first`);
  const challenge = await issueWebauthnChallenge(deps, { purpose: "registration", userId: user.id, sessionId: session.id });
  const party = relyingPartyOf(deps.publicUrl);
  const email = await openUserField(deps.vault, user.id, "email", user.email_ciphertext);
  return generateRegistrationOptions({
    rpName: party.name,
    rpID: party.id,
    userName: email,
    userDisplayName: await openUserField(deps.vault, user.id, "name", user.name_ciphertext),
    userID: new TextEncoder().encode(user.id),
    challenge: Buffer.from(challenge, "base64url"),
    timeout: 5 * 60_000,
    attestationType: "none",
    excludeCredentials: existing.map((credential) => ({ id: credential.credential_id, transports: JSON.parse(credential.transports) as string[] })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    supportedAlgorithmIDs,
  });
}

export async function registerPasskey(deps: IdentityDeps, session: SessionRow, response: RegistrationResponseJSON): Promise<PasskeyView> {
  const challenge = await consumeWebauthnChallenge(deps, { purpose: "registration", userId: session.user_id, sessionId: session.id }, response.response.clientDataJSON);
  const party = relyingPartyOf(deps.publicUrl);
  const verified = await verifyRegistrationResponse({
    response, expectedChallenge: challenge, expectedOrigin: party.origin, expectedRPID: party.id, requireUserVerification: false, supportedAlgorithmIDs,
  }).catch(() => ({ verified: false as const }));
  if (!verified.verified) throw new AppError("passkey_invalid", "the passkey could not be verified");
  const { credential } = verified.registrationInfo;
  const count = await deps.db.selectFrom("webauthn_credentials").select((eb) => eb.fn.countAll<number>().as("count")).where("user_id", "=", session.user_id).executeTakeFirstOrThrow();
  if (Number(count.count) >= maxPasskeysPerUser) throw new AppError("conflict", `at most ${maxPasskeysPerUser} passkeys per account: delete one first`);
  const taken = await deps.db.selectFrom("webauthn_credentials").select("credential_id").where("credential_id", "=", credential.id).executeTakeFirst();
  if (taken) throw new AppError("conflict", "this passkey is already registered");
  const transports = (response.response.transports ?? []).filter((transport) => knownTransports.has(transport));
  const createdAt = new Date().toISOString();
  await deps.db.insertInto("webauthn_credentials").values({
    credential_id: credential.id,
    user_id: session.user_id,
    public_key: Buffer.from(credential.publicKey),
    counter: credential.counter,
    transports: JSON.stringify(transports),
    created_at: createdAt,
  }).execute();
  await deps.messages.send({
    channel: "email", purpose: "security_change", subject: "Security change on your Strongroom account",
    to: await emailOf(deps, session.user_id),
    text: "A passkey was added to your Strongroom account. If this was not you, sign in, remove it, change your password and revoke your sessions.",
  });
  return { id: passkeyIdOf(credential.id), createdAt, lastUsedAt: null, transports };
}

async function emailOf(deps: IdentityDeps, userId: string): Promise<string> {
  const user = await createUserRepository(deps.db).findById(userId);
  if (!user) throw new AppError("session_required", "sign in first");
  return openUserField(deps.vault, userId, "email", user.email_ciphertext);
}
