// Erasing a person: their own key owner ("user:<id>", which seals their e-mail, name, phone and TOTP
// secret) is destroyed first, so every copy of those fields is unreadable; then their account,
// sign-in records and memberships go. What they created in a company (documents, versions, audit
// records naming their id) belongs to that company and stays, attributed to an id that no longer
// resolves to anyone. The only owner of a company cannot be erased until another owner exists or the
// company is erased.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";

export const userKeyOwner = (userId: string) => `user:${userId}`;

// Child rows before the rows they point at.
const userTables = [
  "webauthn_challenges", "login_challenges", "sessions", "devices", "one_time_links", "recovery_codes", "webauthn_credentials",
  "oidc_identities", "phone_verifications", "group_members", "memberships",
] as const;

export async function requireErasable(db: Kysely<DatabaseSchema>, userId: string): Promise<void> {
  const owned = await db.selectFrom("memberships").select("tenant_id").where("user_id", "=", userId).where("role", "=", "owner").execute();
  for (const { tenant_id: tenantId } of owned) {
    const owners = await db.selectFrom("memberships").select((eb) => eb.fn.countAll<number>().as("n"))
      .where("tenant_id", "=", tenantId).where("role", "=", "owner").where("status", "=", "active").executeTakeFirstOrThrow();
    if (Number(owners.n) <= 1) {
      throw new AppError("conflict", "this account is the only owner of a company: make someone else an owner, or erase the company first", { companyId: tenantId });
    }
  }
}

export async function eraseUser(deps: { db: Kysely<DatabaseSchema>; vault: Vault }, userId: string): Promise<{ keysDestroyed: number }> {
  const { db, vault } = deps;
  await requireErasable(db, userId);
  const keysDestroyed = await vault.tenantKeys.destroy(userKeyOwner(userId));
  await db.transaction().execute(async (trx) => {
    for (const table of userTables) {
      await (trx as unknown as Kysely<Record<string, { user_id: string }>>).deleteFrom(table).where("user_id", "=", userId).execute();
    }
    await trx.deleteFrom("users").where("id", "=", userId).execute();
  });
  return { keysDestroyed };
}
