// Password sign-in. From a known device it opens a session at once; from a new device it sends a
// one-time code (only after the password was right) to the verified phone or the e-mail, and the
// session waits for that code (verify-sign-in-code.ts). A user with TOTP or a passkey is asked for
// one of those instead; the code then goes out only on request, as the fallback.
import { AppError } from "../../errors/app-error.ts";
import { checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from "../accounts/passwords.ts";
import { createUserRepository, type UserRow } from "../accounts/user-repository.ts";
import { emailIndexOf, openUserField } from "../accounts/user-fields.ts";
import { isAdminOfCompanyRequiringMfa } from "../second-factors/admin-mfa-rule.ts";
import { secondFactorMethodsOf, type SignInMethod } from "../second-factors/second-factor-methods.ts";
import type { IdentityDeps } from "./identity-deps.ts";
import { newOneTimeCode, newPublicId, newToken, oneTimeCodeHash, tokenHash } from "./secret-tokens.ts";
import type { SessionRow } from "./sessions.ts";

export type ClientInfo = { ip: string; userAgent: string; deviceCookie: string | undefined };

export type LogInResult =
  | { kind: "session"; token: string; session: SessionRow }
  | { kind: "code_required"; challengeToken: string; channel: "email" | "sms" }
  | { kind: "second_factor_required"; challengeToken: string; channel: "email" | "sms"; methods: SignInMethod[] };

export const signInCodeMinutes = 10;
export const signInCodeAttempts = 5;

export async function logIn(deps: IdentityDeps, email: string, password: string, client: ClientInfo): Promise<LogInResult> {
  const users = createUserRepository(deps.db);
  const user = await users.findByEmailIndex(emailIndexOf(deps.vault, email));
  const passwordMatches = await verifyPassword(user?.password_hash ?? null, password);
  if (!user || !passwordMatches) throw new AppError("invalid_credentials", "the e-mail or password is wrong");
  if (user.status !== "active") throw new AppError("account_suspended", "this account is disabled");
  if (!user.email_verified_at) throw new AppError("email_unverified", "confirm your e-mail address first: see the link we sent");
  if (user.password_hash && needsRehash(user.password_hash)) {
    checkPasswordPolicyQuietly(password);
    await users.setPasswordHash(user.id, await hashPassword(password));
  }

  const methods = await secondFactorMethodsOf(deps.db, user);
  const device = await deps.devices.recognise(user.id, client.deviceCookie);
  // A known device spares the second step, except for an admin whose company requires a strong one.
  if (device && !(methods.length > 0 && (await isAdminOfCompanyRequiringMfa(deps.db, user.id)))) {
    const created = await deps.sessions.create({ userId: user.id, tenantId: null, deviceId: device.id, secondFactor: null, ip: client.ip, userAgent: client.userAgent });
    return { kind: "session", ...created };
  }

  const challengeId = newPublicId();
  const challengeToken = newToken();
  const channel = user.phone_ciphertext && user.phone_verified_at ? "sms" : "email";
  const now = Date.now();
  await deps.db.insertInto("login_challenges").values({
    id: challengeId,
    token_hash: tokenHash(deps.vault, challengeToken),
    user_id: user.id,
    // No code yet: an empty hash matches nothing until sendSignInCode stores one.
    code_hash: "",
    channel,
    ip: client.ip,
    expires_at: new Date(now + signInCodeMinutes * 60_000).toISOString(),
    consumed_at: null,
    created_at: new Date(now).toISOString(),
  }).execute();
  if (methods.length > 0) {
    return { kind: "second_factor_required", challengeToken, channel, methods: [...methods, `${channel}_code`] };
  }
  await sendSignInCode(deps, user, challengeId, channel);
  return { kind: "code_required", challengeToken, channel };
}

// Sends the one-time code for a challenge, once: a second request for the same challenge is refused.
export async function sendSignInCode(deps: IdentityDeps, user: UserRow, challengeId: string, channel: "email" | "sms"): Promise<void> {
  const code = newOneTimeCode();
  const stored = await deps.db.updateTable("login_challenges")
    .set({ code_hash: oneTimeCodeHash(deps.vault, challengeId, code), code_sent_at: new Date().toISOString() })
    .where("id", "=", challengeId).where("user_id", "=", user.id).where("code_sent_at", "is", null).executeTakeFirst();
  if (Number(stored.numUpdatedRows) !== 1) throw new AppError("conflict", "a code was already sent for this sign-in: check your messages or sign in again");
  const to = channel === "sms" && user.phone_ciphertext
    ? await openUserField(deps.vault, user.id, "phone", user.phone_ciphertext)
    : await openUserField(deps.vault, user.id, "email", user.email_ciphertext);
  await deps.messages.send({
    channel, to, purpose: "device_code",
    subject: "Your Strongroom sign-in code",
    text: `Your sign-in code is ${code}. It is valid for ${signInCodeMinutes} minutes. ` +
      "If you did not try to sign in, change your password: someone knows it.",
  });
}

// Old hashes are upgraded on sign-in whatever the password; the policy only guards new passwords.
function checkPasswordPolicyQuietly(password: string): void {
  try {
    checkPasswordPolicy(password);
  } catch {
    // A weak legacy password is still re-hashed: the user is asked to change it elsewhere.
  }
}
