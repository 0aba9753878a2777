// The second step of a sign-in from a new device. The one-time code is one way through; TOTP, a
// recovery code and a passkey (modules/second-factors) are the others, and all of them answer the same
// challenge: five wrong answers of any kind lock it (a new sign-in is needed), and success registers
// the device, opens a session that records the factor used, and sends a "new sign-in" notice.
import type { Selectable } from "kysely";
import { AppError, type ErrorCode } from "../../errors/app-error.ts";
import type { LoginChallengesTable } from "../../store/schema.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import { openUserField } from "../accounts/user-fields.ts";
import type { IdentityDeps } from "./identity-deps.ts";
import { signInCodeAttempts, type ClientInfo } from "./log-in.ts";
import { oneTimeCodeMatches, tokenHash } from "./secret-tokens.ts";
import type { SessionRow } from "./sessions.ts";

export type VerifiedSignIn = { token: string; session: SessionRow; deviceId: string };
export type LoginChallengeRow = Selectable<LoginChallengesTable>;
export type SecondFactor = "email_code" | "sms_code" | "totp" | "recovery_code" | "passkey";

export async function verifySignInCode(deps: IdentityDeps, challengeToken: string, code: string, client: Omit<ClientInfo, "deviceCookie">): Promise<VerifiedSignIn> {
  const challenge = await openLoginChallenge(deps, challengeToken);
  if (!challenge.code_sent_at) throw new AppError("second_factor_unavailable", "no code was sent for this sign-in: ask for one first");
  if (!/^\d{6}$/.test(code) || !oneTimeCodeMatches(deps.vault, challenge.id, code, challenge.code_hash)) {
    return countWrongAnswer(deps, challenge, "code_invalid", "the code is wrong");
  }
  return completeSignIn(deps, challenge, challenge.channel === "sms" ? "sms_code" : "email_code", client);
}

// The challenge a token names, if it may still be answered.
export async function openLoginChallenge(deps: IdentityDeps, challengeToken: string): Promise<LoginChallengeRow> {
  const challenge = await deps.db.selectFrom("login_challenges").selectAll()
    .where("token_hash", "=", tokenHash(deps.vault, challengeToken)).executeTakeFirst();
  if (!challenge || challenge.consumed_at) throw new AppError("code_expired", "this sign-in attempt is over: sign in again");
  if (Date.parse(challenge.expires_at) <= Date.now()) throw new AppError("code_expired", "the code has expired: sign in again for a new one");
  if (challenge.attempts >= signInCodeAttempts) throw new AppError("code_locked", "too many wrong codes: sign in again for a new one");
  return challenge;
}

// A wrong answer of any kind, counted atomically so parallel guesses cannot exceed the limit.
export async function countWrongAnswer(deps: IdentityDeps, challenge: LoginChallengeRow, code: ErrorCode, message: string): Promise<never> {
  const counted = await deps.db.updateTable("login_challenges").set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("id", "=", challenge.id).where("attempts", "<", signInCodeAttempts).executeTakeFirst();
  const left = signInCodeAttempts - challenge.attempts - 1;
  if (Number(counted.numUpdatedRows) !== 1 || left <= 0) throw new AppError("code_locked", "too many wrong codes: sign in again for a new one");
  throw new AppError(code, `${message} (${left} attempt${left === 1 ? "" : "s"} left)`);
}

export async function completeSignIn(deps: IdentityDeps, challenge: LoginChallengeRow, secondFactor: SecondFactor, client: Omit<ClientInfo, "deviceCookie">): Promise<VerifiedSignIn> {
  const consumed = await deps.db.updateTable("login_challenges").set({ consumed_at: new Date().toISOString() })
    .where("id", "=", challenge.id).where("consumed_at", "is", null).where("attempts", "<", signInCodeAttempts).executeTakeFirst();
  if (Number(consumed.numUpdatedRows) !== 1) throw new AppError("code_expired", "this sign-in attempt is over: sign in again");

  const device = await deps.devices.register(challenge.user_id, client.userAgent);
  const created = await deps.sessions.create({
    userId: challenge.user_id, tenantId: null, deviceId: device.id, secondFactor, ip: client.ip, userAgent: client.userAgent,
  });
  const user = await createUserRepository(deps.db).findById(challenge.user_id);
  if (user) {
    await deps.messages.send({
      channel: "email", to: await openUserField(deps.vault, user.id, "email", user.email_ciphertext), purpose: "new_sign_in",
      subject: "New sign-in to your Strongroom account",
      text: `Your account was signed in from a new device (${client.userAgent.slice(0, 120)}, address ${client.ip}) at ${created.session.created_at}. ` +
        "If this was not you, change your password and revoke the session in your account settings.",
    });
  }
  return { ...created, deviceId: device.id };
}
