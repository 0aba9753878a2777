// The gate in front of every company route: the caller must belong to the company (else 404, so ids
// of other companies reveal nothing), call from an allowed address, and hold the role or scope the
// action needs. A failure to check is a refusal.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import { createAddressFilter, type AddressFilter } from "../../http/ip-filter.ts";
import type { Principal } from "../../http/authenticate.ts";
import { rowCachePerDatabase } from "../../store/row-cache.ts";
import type { DatabaseSchema, Role } from "../../store/schema.ts";
import type { ApiScope } from "../api-keys/api-keys.ts";
import { requireStrongFactorForAdminAction } from "../second-factors/admin-mfa-rule.ts";
import { requireRoleFor, type TenantAction } from "./tenant-policy.ts";

type TenantGateRow = { id: string; name_ciphertext: Uint8Array; ip_allowlist: string; require_admin_mfa: number };
// The row, with its address allow-list parsed once (undefined filter: every address may call).
export type TenantGate = TenantGateRow & { allowlist: readonly string[]; addressFilter: AddressFilter | undefined };
export type TenantAccess = { tenantId: string; role: Role | undefined; principal: Principal };
// What the gate hands the route: the access, and the company row it checked.
export type GrantedTenantAccess = TenantAccess & { tenant: TenantGate };

// What the gate reads of a company on every request, kept in memory; every write of these columns
// announces a "tenant" change (tenant-repository.ts, admin-mfa-rule.ts, erase-company.ts), which drops
// the row on every node at once (store/change-notices.ts).
const gateCacheOf = rowCachePerDatabase<TenantGate>({ topic: "tenant", maxEntries: 10_000, maxAgeMs: 60_000 });

function readTenantGate(db: Kysely<DatabaseSchema>, tenantId: string): Promise<TenantGate | undefined> {
  return gateCacheOf(db).get(tenantId, async () => {
    const row = await db.selectFrom("tenants").select(["id", "name_ciphertext", "ip_allowlist", "require_admin_mfa"]).where("id", "=", tenantId).executeTakeFirst();
    return row && tenantGateOf(row);
  });
}

function tenantGateOf(row: TenantGateRow): TenantGate {
  const allowlist = Object.freeze(JSON.parse(row.ip_allowlist) as string[]);
  return { ...row, allowlist, addressFilter: allowlist.length === 0 ? undefined : createAddressFilter([...allowlist]) };
}

// What an API key needs for each action; keys act with the rights of their scopes only.
const scopeFor: Record<TenantAction, ApiScope> = {
  view_tenant: "read",
  view_members: "read",
  invite_members: "admin",
  change_roles: "admin",
  suspend_members: "admin",
  manage_groups: "admin",
  manage_api_keys: "admin",
  manage_settings: "admin",
  view_audit: "admin",
  transfer_ownership: "admin",
  export_company: "admin",
  erase_company: "admin",
  erase_members: "admin",
  send_for_signature: "sign",
};

export async function requireTenantAccess(
  db: Kysely<DatabaseSchema>,
  principal: Principal,
  tenantId: string,
  action: TenantAction,
  clientIp: string,
): Promise<GrantedTenantAccess> {
  const notFound = () => new AppError("not_found", "no such company");
  if (typeof tenantId !== "string" || tenantId.length > 64) throw notFound();
  const tenant = await readTenantGate(db, tenantId);
  if (!tenant) throw notFound();

  if (principal.kind === "api_key") {
    if (principal.tenantId !== tenantId) throw notFound();
    requireAllowedAddress(tenant, clientIp);
    if (!principal.scopes.includes(scopeFor[action]) && !principal.scopes.includes("admin")) {
      throw new AppError("insufficient_scope", `this API key lacks the "${scopeFor[action]}" scope`);
    }
    return { tenantId, role: undefined, principal, tenant };
  }

  const membership = await db.selectFrom("memberships").select(["role", "status"])
    .where("tenant_id", "=", tenantId).where("user_id", "=", principal.userId).executeTakeFirst();
  if (!membership) throw notFound();
  if (membership.status !== "active") throw new AppError("account_suspended", "your membership of this company is suspended");
  requireAllowedAddress(tenant, clientIp);
  requireRoleFor(membership.role, action);
  requireStrongFactorForAdminAction({ requireAdminMfa: tenant.require_admin_mfa, role: membership.role, action, secondFactor: principal.session.second_factor });
  return { tenantId, role: membership.role, principal, tenant };
}

function requireAllowedAddress(tenant: TenantGate, clientIp: string): void {
  if (tenant.addressFilter && !tenant.addressFilter.allows(clientIp)) {
    throw new AppError("ip_not_allowed", "this company only allows access from its listed addresses");
  }
}
