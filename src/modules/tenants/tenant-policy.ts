// Who may do what in a company, in one place. Roles are ordered; an action names the least role that
// may take it. A user who is not an active member of the company sees nothing of it (404).
import { AppError } from "../../errors/app-error.ts";
import type { Role } from "../../store/schema.ts";

export type TenantAction =
  | "view_tenant"
  | "view_members"
  | "invite_members"
  | "change_roles"
  | "suspend_members"
  | "manage_groups"
  | "manage_api_keys"
  | "manage_settings"
  | "view_audit"
  | "transfer_ownership"
  | "send_for_signature"
  | "export_company"
  | "erase_company"
  | "erase_members";

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

const leastRole: Record<TenantAction, Role> = {
  view_tenant: "viewer",
  view_members: "member",
  invite_members: "admin",
  change_roles: "admin",
  suspend_members: "admin",
  manage_groups: "admin",
  manage_api_keys: "admin",
  manage_settings: "admin",
  view_audit: "admin",
  transfer_ownership: "owner",
  send_for_signature: "member",
  export_company: "owner",
  erase_company: "owner",
  erase_members: "owner",
};

export const roles: readonly Role[] = ["owner", "admin", "member", "viewer"];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (roles as readonly string[]).includes(value);
}

export function roleAllows(role: Role, action: TenantAction): boolean {
  return rank[role] >= rank[leastRole[action]];
}

export function requireRoleFor(role: Role, action: TenantAction): void {
  if (!roleAllows(role, action)) throw new AppError("forbidden", "your role in this company does not allow this");
}

// An admin may grant or change roles up to admin; only an owner may make or unmake owners.
export function requireMayAssign(actorRole: Role, fromRole: Role | undefined, toRole: Role): void {
  requireRoleFor(actorRole, "change_roles");
  if ((toRole === "owner" || fromRole === "owner") && actorRole !== "owner") {
    throw new AppError("forbidden", "only an owner may grant or remove the owner role");
  }
}
