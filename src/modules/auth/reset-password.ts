// Password reset by an e-mailed single-use link. Asking never reveals whether the e-mail has an
// account; completing it sets the new password and ends every session of the user.
import { checkPasswordPolicy, hashPassword } from "../accounts/passwords.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import { emailIndexOf, normaliseEmail } from "../accounts/user-fields.ts";
import type { IdentityDeps } from "./identity-deps.ts";
import { consumeOneTimeLink, createOneTimeLink } from "./one-time-links.ts";

export const passwordResetMinutes = 60;

export async function requestPasswordReset(deps: IdentityDeps, email: string): Promise<void> {
  const user = await createUserRepository(deps.db).findByEmailIndex(emailIndexOf(deps.vault, email));
  if (!user || user.status !== "active") return;
  const token = await createOneTimeLink(deps.db, deps.vault, "password_reset", user.id, passwordResetMinutes);
  await deps.messages.send({
    channel: "email", to: normaliseEmail(email), purpose: "password_reset",
    subject: "Reset your Strongroom password",
    text: `Open this link within ${passwordResetMinutes} minutes to choose a new password:\n\n${deps.publicUrl}/reset-password#token=${token}\n\n` +
      "If you did not ask for this, ignore this message: your password stays as it is.",
  });
}

export async function completePasswordReset(deps: IdentityDeps, token: string, newPassword: string): Promise<void> {
  checkPasswordPolicy(newPassword);
  const userId = await consumeOneTimeLink(deps.db, deps.vault, "password_reset", token);
  const users = createUserRepository(deps.db);
  await users.setPasswordHash(userId, await hashPassword(newPassword));
  // Whoever had the old password is signed out everywhere; the link proved control of the e-mail.
  await users.markEmailVerified(userId);
  await deps.sessions.revokeAll(userId);
}

export async function verifyEmail(deps: IdentityDeps, token: string): Promise<void> {
  const userId = await consumeOneTimeLink(deps.db, deps.vault, "email_verification", token);
  await createUserRepository(deps.db).markEmailVerified(userId);
}
