// The fallback for a user with TOTP or a passkey: the one-time code by e-mail or SMS, sent on request
// (once per sign-in attempt) and then entered at /v1/auth/login/code as for everyone else.
import { AppError } from "../../errors/app-error.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { sendSignInCode } from "../auth/log-in.ts";
import { openLoginChallenge } from "../auth/verify-sign-in-code.ts";

export async function requestSignInCode(deps: IdentityDeps, challengeToken: string): Promise<{ channel: "email" | "sms" }> {
  const attempt = await openLoginChallenge(deps, challengeToken);
  const user = await createUserRepository(deps.db).findById(attempt.user_id);
  if (!user || user.status !== "active") throw new AppError("code_expired", "this sign-in attempt is over: sign in again");
  const channel = attempt.channel === "sms" ? "sms" : "email";
  await sendSignInCode(deps, user, attempt.id, channel);
  return { channel };
}
