// Who an OpenID Connect identity is here. An identity already linked (issuer, subject) names its
// user; a new one links only by an address the provider verified, to an existing account whose own
// address was confirmed. OIDC never creates an account: accounts come from sign-up and invitations.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { createUserRepository, type UserRow } from "../accounts/user-repository.ts";
import { emailIndexOf } from "../accounts/user-fields.ts";
import type { OidcProviderConfig } from "./oidc-config.ts";
import { verifiedEmailOf } from "./verified-email.ts";

export type OidcIdentity = { issuer: string; subject: string };
export type OidcUser = { user: UserRow; linked: boolean };

export async function findOidcUser(
  db: Kysely<DatabaseSchema>,
  vault: Vault,
  provider: OidcProviderConfig,
  identity: OidcIdentity,
  claims: Record<string, unknown>,
): Promise<OidcUser> {
  const users = createUserRepository(db);
  const link = await db.selectFrom("oidc_identities").select("user_id")
    .where("issuer", "=", identity.issuer).where("subject", "=", identity.subject).executeTakeFirst();
  if (link) {
    const user = await users.findById(link.user_id);
    if (!user) throw new AppError("oidc_no_account", "there is no Strongroom account for this sign-in: ask your company for an invitation");
    return { user, linked: true };
  }

  const email = verifiedEmailOf(provider.kind, claims);
  if (!email) {
    throw new AppError("oidc_email_unverified", "the sign-in provider did not confirm that this e-mail address is yours, so it cannot be linked to an account");
  }
  const user = await users.findByEmailIndex(emailIndexOf(vault, email));
  if (!user) throw new AppError("oidc_no_account", "there is no Strongroom account for this e-mail address: sign up or ask your company for an invitation");
  // An unconfirmed account may have been opened by someone else with this address; linking it would
  // hand them the real owner's sign-ins.
  if (!user.email_verified_at) throw new AppError("email_unverified", "confirm your e-mail address first (see the link we sent), then sign in again");
  return { user, linked: false };
}

export async function linkOidcIdentity(db: Kysely<DatabaseSchema>, identity: OidcIdentity, userId: string): Promise<void> {
  await db.insertInto("oidc_identities")
    .values({ issuer: identity.issuer, subject: identity.subject, user_id: userId, created_at: new Date().toISOString() })
    .onConflict((conflict) => conflict.columns(["issuer", "subject"]).doNothing())
    .execute();
}

// The user's companies that accept OIDC sign-in, where the membership is active (oldest first).
export async function oidcCompaniesOf(db: Kysely<DatabaseSchema>, userId: string): Promise<string[]> {
  const rows = await db.selectFrom("memberships")
    .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
    .select("memberships.tenant_id")
    .where("memberships.user_id", "=", userId)
    .where("memberships.status", "=", "active")
    .where("tenants.oidc_allowed", "=", 1)
    .orderBy("memberships.created_at")
    .limit(500)
    .execute();
  return rows.map((row) => row.tenant_id);
}
