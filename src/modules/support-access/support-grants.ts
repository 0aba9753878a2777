// Support access (P16): operators hold no right to any company's content. A company owner or admin
// lets one named operator read the company's documents for a limited time (at most 72 hours), and may
// withdraw it at any moment; an expired or withdrawn grant refuses at once.
import type { Kysely, Selectable } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema, SupportAccessGrantsTable } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newPublicId } from "../auth/secret-tokens.ts";

export const maxSupportHours = 72;
export const maxActiveGrantsPerCompany = 20;

export type SupportGrantRow = Selectable<SupportAccessGrantsTable>;

const reasonContext = (tenantId: string, grantId: string) => ({ tenantId, objectType: "support_access_grant", objectId: grantId, objectVersion: 1, field: "reason" });

export async function grantSupportAccess(
  db: Kysely<DatabaseSchema>,
  vault: Vault,
  input: { tenantId: string; operatorUsername: string; expiresAt: string; reason?: string | undefined; grantedBy: string },
): Promise<SupportGrantRow> {
  const now = Date.now();
  const expires = Date.parse(input.expiresAt);
  if (!Number.isFinite(expires) || expires <= now) throw new AppError("validation_failed", "expiresAt must be a time in the future");
  if (expires > now + maxSupportHours * 3_600_000) throw new AppError("validation_failed", `support access may last at most ${maxSupportHours} hours`);
  const operator = await db.selectFrom("operators").select(["id", "disabled_at"]).where("username", "=", input.operatorUsername.trim().toLowerCase()).executeTakeFirst();
  if (!operator || operator.disabled_at) throw new AppError("not_found", "no such operator");
  const active = await db.selectFrom("support_access_grants").select((eb) => eb.fn.countAll<number>().as("count"))
    .where("tenant_id", "=", input.tenantId).where("revoked_at", "is", null).where("expires_at", ">", new Date(now).toISOString()).executeTakeFirstOrThrow();
  if (Number(active.count) >= maxActiveGrantsPerCompany) throw new AppError("conflict", `at most ${maxActiveGrantsPerCompany} support grants may be active at once`);
  const id = newPublicId();
  const row: SupportGrantRow = {
    tenant_id: input.tenantId, id, operator_id: operator.id,
    reason_ciphertext: input.reason ? await vault.data.sealString(reasonContext(input.tenantId, id), input.reason) : null,
    granted_by: input.grantedBy, created_at: new Date(now).toISOString(), expires_at: new Date(expires).toISOString(), revoked_at: null, revoked_by: null,
  };
  await db.insertInto("support_access_grants").values(row).execute();
  return row;
}

export async function revokeSupportGrant(db: Kysely<DatabaseSchema>, tenantId: string, grantId: string, revokedBy: string): Promise<void> {
  const grant = await db.selectFrom("support_access_grants").select("id").where("tenant_id", "=", tenantId).where("id", "=", grantId).executeTakeFirst();
  if (!grant) throw new AppError("not_found", "no such support grant");
  await db.updateTable("support_access_grants").set({ revoked_at: new Date().toISOString(), revoked_by: revokedBy })
    .where("tenant_id", "=", tenantId).where("id", "=", grantId).where("revoked_at", "is", null).execute();
}

// The operator's live grant for this company; without one the company does not exist for them (404).
export async function requireSupportGrant(db: Kysely<DatabaseSchema>, tenantId: string, operatorId: string): Promise<SupportGrantRow> {
  const grant = await db.selectFrom("support_access_grants").selectAll().where("tenant_id", "=", tenantId).where("operator_id", "=", operatorId)
    .where("revoked_at", "is", null).where("expires_at", ">", new Date().toISOString()).orderBy("expires_at", "desc").executeTakeFirst();
  if (!grant) throw new AppError("not_found", "no such company");
  return grant;
}

export function supportGrantStatus(grant: SupportGrantRow, now = Date.now()): "active" | "expired" | "revoked" {
  if (grant.revoked_at) return "revoked";
  return Date.parse(grant.expires_at) <= now ? "expired" : "active";
}

export async function presentSupportGrant(vault: Vault, grant: SupportGrantRow, operatorUsername: string) {
  return {
    id: grant.id, operator: { id: grant.operator_id, username: operatorUsername }, status: supportGrantStatus(grant),
    reason: grant.reason_ciphertext ? await vault.data.openString(reasonContext(grant.tenant_id, grant.id), grant.reason_ciphertext) : null,
    grantedBy: grant.granted_by, createdAt: grant.created_at, expiresAt: grant.expires_at, revokedAt: grant.revoked_at, revokedBy: grant.revoked_by,
  };
}
