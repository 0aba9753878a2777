// Sign-up: a new company with its first owner. The owner must verify the e-mail before signing in.
// An e-mail already in use gets a notice instead, and the answer is the same, so sign-up does not
// reveal who has an account.
import { randomUUID } from "node:crypto";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { createOneTimeLink } from "../auth/one-time-links.ts";
import { checkPasswordPolicy, hashPassword } from "./passwords.ts";
import { emailIndexOf, normaliseEmail, sealUserField } from "./user-fields.ts";

export type SignUpInput = { companyName: string; name: string; email: string; password: string };

export const emailVerificationMinutes = 24 * 60;

export async function signUp(deps: IdentityDeps, input: SignUpInput): Promise<void> {
  checkPasswordPolicy(input.password);
  const email = normaliseEmail(input.email);
  const emailIndex = emailIndexOf(deps.vault, email);
  const existing = await deps.db.selectFrom("users").select("id").where("email_index", "=", emailIndex).executeTakeFirst();
  if (existing) {
    await deps.messages.send({
      channel: "email", to: email, purpose: "sign_up_existing",
      subject: "Someone tried to sign up with your e-mail",
      text: "Someone tried to create a Strongroom company with this e-mail address, which already has an account. " +
        "If it was you, sign in instead. If it was not, you can ignore this message.",
    });
    return;
  }
  const userId = randomUUID();
  const tenantId = randomUUID();
  const now = new Date().toISOString();
  const passwordHash = await hashPassword(input.password);
  const user = {
    id: userId,
    email_index: emailIndex,
    email_ciphertext: await sealUserField(deps.vault, userId, "email", email),
    name_ciphertext: await sealUserField(deps.vault, userId, "name", input.name.trim()),
    password_hash: passwordHash,
    email_verified_at: null,
    phone_ciphertext: null,
    phone_verified_at: null,
    totp_secret_ciphertext: null,
    totp_enabled_at: null,
    created_at: now,
    updated_at: now,
  };
  const tenantName = await deps.vault.data.sealString({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field: "name" }, input.companyName.trim());
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto("users").values(user).execute();
    await trx.insertInto("tenants").values({ id: tenantId, name_ciphertext: tenantName, created_at: now }).execute();
    await trx.insertInto("memberships").values({ tenant_id: tenantId, user_id: userId, role: "owner", created_at: now }).execute();
  });
  await sendEmailVerification(deps, userId, email);
}

export async function sendEmailVerification(deps: IdentityDeps, userId: string, email: string): Promise<void> {
  const token = await createOneTimeLink(deps.db, deps.vault, "email_verification", userId, emailVerificationMinutes);
  await deps.messages.send({
    channel: "email", to: email, purpose: "email_verification",
    subject: "Confirm your e-mail for Strongroom",
    text: `Confirm your e-mail address by opening this link (valid for 24 hours):\n\n${deps.publicUrl}/verify-email#token=${token}\n`,
  });
}
