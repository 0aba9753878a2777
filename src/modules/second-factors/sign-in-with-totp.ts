// TOTP and recovery codes as the second step of a sign-in. Wrong, replayed and unknown codes all count
// against the attempt's limit, shared with the other ways through.
import { AppError } from "../../errors/app-error.ts";
import { openUserField } from "../accounts/user-fields.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import type { ClientInfo } from "../auth/log-in.ts";
import { completeSignIn, countWrongAnswer, openLoginChallenge, type VerifiedSignIn } from "../auth/verify-sign-in-code.ts";
import { useRecoveryCode } from "./recovery-codes.ts";
import { claimTotpStep, matchTotpStep } from "./totp.ts";

export async function signInWithTotp(deps: IdentityDeps, challengeToken: string, code: string, client: Omit<ClientInfo, "deviceCookie">): Promise<VerifiedSignIn> {
  const attempt = await openLoginChallenge(deps, challengeToken);
  const user = await createUserRepository(deps.db).findById(attempt.user_id);
  if (!user?.totp_enabled_at || !user.totp_secret_ciphertext) throw new AppError("second_factor_unavailable", "TOTP is not on for this account");
  const secret = await openUserField(deps.vault, user.id, "totp_secret", user.totp_secret_ciphertext);
  const step = matchTotpStep(secret, code);
  if (step === null) return countWrongAnswer(deps, attempt, "code_invalid", "the code is wrong");
  if (!(await claimTotpStep(deps.db, user.id, step))) return countWrongAnswer(deps, attempt, "code_reused", "this code was already used: wait for the next one");
  return completeSignIn(deps, attempt, "totp", client);
}

export async function signInWithRecoveryCode(deps: IdentityDeps, challengeToken: string, code: string, client: Omit<ClientInfo, "deviceCookie">): Promise<VerifiedSignIn> {
  const attempt = await openLoginChallenge(deps, challengeToken);
  const user = await createUserRepository(deps.db).findById(attempt.user_id);
  if (!user?.totp_enabled_at) throw new AppError("second_factor_unavailable", "this account has no recovery codes");
  if (!(await useRecoveryCode(deps, user.id, code))) return countWrongAnswer(deps, attempt, "code_invalid", "the recovery code is wrong or was used already");
  return completeSignIn(deps, attempt, "recovery_code", client);
}
