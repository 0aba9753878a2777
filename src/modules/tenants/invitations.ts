// Inviting people into a company: an expiring single-use link by e-mail. Accepting it adds the
// membership; a person without an account creates one on the way (the link proves the e-mail).
import { randomUUID } from "node:crypto";
import { AppError } from "../../errors/app-error.ts";
import type { Role } from "../../store/schema.ts";
import { checkPasswordPolicy, hashPassword } from "../accounts/passwords.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import { emailIndexOf, normaliseEmail, sealUserField } from "../accounts/user-fields.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { newPublicId, newToken, tokenHash } from "../auth/secret-tokens.ts";
import { requireMayAssign } from "./tenant-policy.ts";

export const invitationDays = 7;

export async function inviteMember(deps: IdentityDeps, tenantId: string, inviter: { userId: string; role: Role }, email: string, role: Role): Promise<{ id: string }> {
  requireMayAssign(inviter.role, undefined, role);
  const normalised = normaliseEmail(email);
  const id = newPublicId();
  const token = newToken();
  const now = Date.now();
  await deps.db.insertInto("invitations").values({
    tenant_id: tenantId,
    id,
    token_hash: tokenHash(deps.vault, token),
    email_index: emailIndexOf(deps.vault, normalised),
    email_ciphertext: await deps.vault.data.sealString({ tenantId, objectType: "invitation", objectId: id, objectVersion: 1, field: "email" }, normalised),
    role,
    invited_by: inviter.userId,
    expires_at: new Date(now + invitationDays * 86_400_000).toISOString(),
    accepted_at: null,
    revoked_at: null,
    created_at: new Date(now).toISOString(),
  }).execute();
  await deps.messages.send({
    channel: "email", to: normalised, purpose: "invitation",
    subject: "You are invited to a company on Strongroom",
    text: `You have been invited to join a company on Strongroom as ${role}. Accept within ${invitationDays} days:\n\n` +
      `${deps.publicUrl}/accept-invitation#token=${token}\n`,
  });
  return { id };
}

export type AcceptInvitationInput = { token: string; signedInUserId?: string | undefined; name?: string | undefined; password?: string | undefined };

export async function acceptInvitation(deps: IdentityDeps, input: AcceptInvitationInput): Promise<{ tenantId: string; userId: string }> {
  const invalid = new AppError("link_invalid", "this invitation is invalid, expired or already used");
  const invitation = await deps.db.selectFrom("invitations").selectAll().where("token_hash", "=", tokenHash(deps.vault, input.token)).executeTakeFirst();
  if (!invitation || invitation.accepted_at || invitation.revoked_at || Date.parse(invitation.expires_at) <= Date.now()) throw invalid;

  const users = createUserRepository(deps.db);
  const user = await users.findByEmailIndex(invitation.email_index);
  if (input.signedInUserId && user?.id !== input.signedInUserId) {
    throw new AppError("forbidden", "this invitation was sent to another e-mail address");
  }
  let newUser: NewInvitedUser | undefined;
  if (!user) {
    if (!input.name?.trim() || !input.password) throw new AppError("validation_failed", "choose a name and a password to create your account");
    checkPasswordPolicy(input.password);
    const email = await deps.vault.data.openString(
      { tenantId: invitation.tenant_id, objectType: "invitation", objectId: invitation.id, objectVersion: 1, field: "email" },
      invitation.email_ciphertext,
    );
    newUser = { id: randomUUID(), email, emailIndex: invitation.email_index, name: input.name.trim(), password: input.password };
  }
  const row = newUser ? await createUserRow(deps, newUser) : undefined;
  const userId = row?.id ?? user!.id;
  const now = new Date().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const claimed = await trx.updateTable("invitations").set({ accepted_at: now })
      .where("tenant_id", "=", invitation.tenant_id).where("id", "=", invitation.id).where("accepted_at", "is", null).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw invalid;
    if (row) await trx.insertInto("users").values(row).execute();
    const existing = await trx.selectFrom("memberships").select("role").where("tenant_id", "=", invitation.tenant_id).where("user_id", "=", userId).executeTakeFirst();
    if (!existing) {
      await trx.insertInto("memberships").values({ tenant_id: invitation.tenant_id, user_id: userId, role: invitation.role, created_at: now }).execute();
    }
  });
  return { tenantId: invitation.tenant_id, userId };
}

type NewInvitedUser = { id: string; email: string; emailIndex: string; name: string; password: string };

async function createUserRow(deps: IdentityDeps, input: NewInvitedUser) {
  const now = new Date().toISOString();
  return {
    id: input.id,
    email_index: input.emailIndex,
    email_ciphertext: await sealUserField(deps.vault, input.id, "email", input.email),
    name_ciphertext: await sealUserField(deps.vault, input.id, "name", input.name),
    password_hash: await hashPassword(input.password),
    // The invitation link reached this address: that verifies it.
    email_verified_at: now,
    phone_ciphertext: null,
    phone_verified_at: null,
    totp_secret_ciphertext: null,
    totp_enabled_at: null,
    created_at: now,
    updated_at: now,
  };
}
