// Password sign-in. From a known device it opens a session at once; from a new device it sends a
// one-time code (only after the password was right) to the verified phone or the e-mail, and the
// session waits for that code (verify-sign-in-code.ts).
import { AppError } from "../../errors/app-error.ts";
import { checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from "../accounts/passwords.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import { emailIndexOf, openUserField } from "../accounts/user-fields.ts";
import type { IdentityDeps } from "./identity-deps.ts";
import { newOneTimeCode, newPublicId, newToken, oneTimeCodeHash, tokenHash } from "./secret-tokens.ts";
import type { SessionRow } from "./sessions.ts";

export type ClientInfo = { ip: string; userAgent: string; deviceCookie: string | undefined };

export type LogInResult =
  | { kind: "session"; token: string; session: SessionRow }
  | { kind: "code_required"; challengeToken: string; channel: "email" | "sms" };

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

  const device = await deps.devices.recognise(user.id, client.deviceCookie);
  if (device) {
    const created = await deps.sessions.create({ userId: user.id, tenantId: null, deviceId: device.id, secondFactor: null, ip: client.ip, userAgent: client.userAgent });
    return { kind: "session", ...created };
  }

  const challengeId = newPublicId();
  const challengeToken = newToken();
  const code = newOneTimeCode();
  const usePhone = Boolean(user.phone_ciphertext && user.phone_verified_at);
  const channel = usePhone ? "sms" : "email";
  const to = usePhone
    ? await openUserField(deps.vault, user.id, "phone", user.phone_ciphertext!)
    : await openUserField(deps.vault, user.id, "email", user.email_ciphertext);
  const now = Date.now();
  await deps.db.insertInto("login_challenges").values({
    id: challengeId,
    token_hash: tokenHash(deps.vault, challengeToken),
    user_id: user.id,
    code_hash: oneTimeCodeHash(deps.vault, challengeId, code),
    channel,
    ip: client.ip,
    expires_at: new Date(now + signInCodeMinutes * 60_000).toISOString(),
    consumed_at: null,
    created_at: new Date(now).toISOString(),
  }).execute();
  await deps.messages.send({
    channel, to, purpose: "device_code",
    subject: "Your Strongroom sign-in code",
    text: `Your sign-in code is ${code}. It is valid for ${signInCodeMinutes} minutes. ` +
      "If you did not try to sign in, change your password: someone knows it.",
  });
  return { kind: "code_required", challengeToken, channel };
}

// Old hashes are upgraded on sign-in whatever the password; the policy only guards new passwords.
function checkPasswordPolicyQuietly(password: string): void {
  try {
    checkPasswordPolicy(password);
  } catch {
    // A weak legacy password is still re-hashed: the user is asked to change it elsewhere.
  }
}
