// A company's rule that its owners and admins use a strong second factor (TOTP or a passkey) for
// admin actions. Checked in one place, the tenant access gate, against the session's recorded factor.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import { writeAndAnnounce } from "../../store/change-notices.ts";
import type { DatabaseSchema, Role } from "../../store/schema.ts";
import { roleAllows, type TenantAction } from "../tenants/tenant-policy.ts";

const strongFactors: ReadonlySet<string> = new Set(["totp", "passkey"]);

export function isStrongSecondFactor(secondFactor: string | null): boolean {
  return secondFactor !== null && strongFactors.has(secondFactor);
}

export function requireStrongFactorForAdminAction(input: { requireAdminMfa: number; role: Role; action: TenantAction; secondFactor: string | null }): void {
  if (!input.requireAdminMfa) return;
  // Actions a member may take are not admin actions; everything above is.
  if (roleAllows("member", input.action)) return;
  if (input.role !== "owner" && input.role !== "admin") return;
  if (isStrongSecondFactor(input.secondFactor)) return;
  throw new AppError("second_factor_required", "this company requires owners and admins to sign in with TOTP or a passkey for admin actions");
}

export async function isAdminOfCompanyRequiringMfa(db: Kysely<DatabaseSchema>, userId: string): Promise<boolean> {
  const row = await db.selectFrom("memberships").innerJoin("tenants", "tenants.id", "memberships.tenant_id")
    .select("memberships.tenant_id")
    .where("memberships.user_id", "=", userId).where("memberships.status", "=", "active")
    .where("memberships.role", "in", ["owner", "admin"]).where("tenants.require_admin_mfa", "=", 1)
    .limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function setRequireAdminMfa(db: Kysely<DatabaseSchema>, tenantId: string, required: boolean): Promise<void> {
  await writeAndAnnounce(db, "tenant", tenantId, async (trx) => {
    await trx.updateTable("tenants").set({ require_admin_mfa: required ? 1 : 0 }).where("id", "=", tenantId).execute();
  });
}
