// Turning TOTP on and off for a signed-in user. Start hands out a new secret once (kept sealed under
// the user's key); confirm with a current code switches it on and makes the recovery codes; turning
// it off needs a current code or the password. Each change is announced by e-mail.
import { AppError } from "../../errors/app-error.ts";
import { verifyPassword } from "../accounts/passwords.ts";
import { openUserField, sealUserField } from "../accounts/user-fields.ts";
import { createUserRepository, type UserRow } from "../accounts/user-repository.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { deleteRecoveryCodes, replaceRecoveryCodes } from "./recovery-codes.ts";
import { claimTotpStep, matchTotpStep, newTotpSecret, totpUri } from "./totp.ts";

export async function startTotpEnrolment(deps: IdentityDeps, userId: string): Promise<{ secret: string; otpauthUri: string }> {
  const user = await userOrRefuse(deps, userId);
  if (user.totp_enabled_at) throw new AppError("conflict", "TOTP is already on: turn it off first to set up a new authenticator");
  const secret = newTotpSecret();
  const sealed = await sealUserField(deps.vault, userId, "totp_secret", secret);
  const stored = await deps.db.updateTable("users").set({ totp_secret_ciphertext: sealed, totp_last_step: null, updated_at: new Date().toISOString() })
    .where("id", "=", userId).where("totp_enabled_at", "is", null).executeTakeFirst();
  if (Number(stored.numUpdatedRows) !== 1) throw new AppError("conflict", "TOTP is already on: turn it off first to set up a new authenticator");
  const email = await openUserField(deps.vault, userId, "email", user.email_ciphertext);
  return { secret, otpauthUri: totpUri(secret, email) };
}

export async function confirmTotpEnrolment(deps: IdentityDeps, userId: string, code: string): Promise<{ recoveryCodes: string[] }> {
  const user = await userOrRefuse(deps, userId);
  if (user.totp_enabled_at) throw new AppError("conflict", "TOTP is already on");
  if (!user.totp_secret_ciphertext) throw new AppError("second_factor_unavailable", "start the TOTP set-up first");
  const secret = await openUserField(deps.vault, userId, "totp_secret", user.totp_secret_ciphertext);
  const step = matchTotpStep(secret, code);
  if (step === null) throw new AppError("code_invalid", "the code is wrong: check the authenticator app's clock and try the current code");
  const at = new Date().toISOString();
  // The confirming code also counts as used, so it cannot sign anyone in afterwards.
  const enabled = await deps.db.updateTable("users").set({ totp_enabled_at: at, totp_last_step: step, updated_at: at })
    .where("id", "=", userId).where("totp_enabled_at", "is", null).where("totp_secret_ciphertext", "is not", null).executeTakeFirst();
  if (Number(enabled.numUpdatedRows) !== 1) throw new AppError("conflict", "TOTP is already on");
  const recoveryCodes = await replaceRecoveryCodes(deps, userId);
  await announce(deps, user, "Two-step sign-in with an authenticator app was turned on for your Strongroom account.");
  return { recoveryCodes };
}

export async function disableTotp(deps: IdentityDeps, userId: string, proof: { code?: string; password?: string }): Promise<void> {
  const user = await userOrRefuse(deps, userId);
  if (!user.totp_enabled_at || !user.totp_secret_ciphertext) throw new AppError("second_factor_unavailable", "TOTP is not on");
  if (proof.code !== undefined) {
    const secret = await openUserField(deps.vault, userId, "totp_secret", user.totp_secret_ciphertext);
    const step = matchTotpStep(secret, proof.code);
    if (step === null) throw new AppError("code_invalid", "the code is wrong");
    if (!(await claimTotpStep(deps.db, userId, step))) throw new AppError("code_reused", "this code was already used: wait for the next one");
  } else if (proof.password !== undefined) {
    if (!(await verifyPassword(user.password_hash, proof.password))) throw new AppError("invalid_credentials", "the password is wrong");
  } else {
    throw new AppError("bad_request", "send a current TOTP code or your password");
  }
  await deps.db.updateTable("users").set({ totp_secret_ciphertext: null, totp_enabled_at: null, totp_last_step: null, updated_at: new Date().toISOString() })
    .where("id", "=", userId).execute();
  await deleteRecoveryCodes(deps, userId);
  await announce(deps, user, "Two-step sign-in with an authenticator app was turned off for your Strongroom account.");
}

async function userOrRefuse(deps: IdentityDeps, userId: string): Promise<UserRow> {
  const user = await createUserRepository(deps.db).findById(userId);
  if (!user || user.status !== "active") throw new AppError("session_required", "sign in first");
  return user;
}

async function announce(deps: IdentityDeps, user: UserRow, what: string): Promise<void> {
  await deps.messages.send({
    channel: "email", to: await openUserField(deps.vault, user.id, "email", user.email_ciphertext), purpose: "security_change",
    subject: "Security change on your Strongroom account",
    text: `${what} If this was not you, sign in, change your password and revoke your sessions.`,
  });
}
