// Who may do what to a folder or document, in one place. A grant (view < edit < manage) on a folder
// flows down to everything inside it; the caller's company role bounds it (a viewer never edits);
// owners and admins manage everything. No view right means the thing does not exist for the caller (404).
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema, Permission, Role } from "../../store/schema.ts";
import type { TenantAccess } from "../tenants/tenant-access.ts";

export type Level = "none" | Permission;

const rank: Record<Level, number> = { none: 0, view: 1, edit: 2, manage: 3 };
const maxDepth = 64;

export function atLeast(level: Level, needed: Permission): boolean {
  return rank[level] >= rank[needed];
}

function higher(a: Level, b: Level): Level {
  return rank[a] >= rank[b] ? a : b;
}

function ceilingOf(role: Role): Level {
  return role === "viewer" ? "view" : "manage";
}

export type DocumentRights = {
  // Everything in the company at this level, whatever the grants (admins, API keys).
  blanket: Level;
  ceiling: Level;
  granted: Map<string, Level>; // "folder:<id>" or "document:<id>" → best grant for the caller
};

export async function loadDocumentRights(db: Kysely<DatabaseSchema>, access: TenantAccess): Promise<DocumentRights> {
  const principal = access.principal;
  if (principal.kind === "api_key") {
    const blanket: Level = principal.scopes.includes("admin") ? "manage" : principal.scopes.includes("write") ? "edit" : principal.scopes.includes("read") ? "view" : "none";
    return { blanket, ceiling: blanket, granted: new Map() };
  }
  const role = access.role ?? "viewer";
  if (role === "owner" || role === "admin") return { blanket: "manage", ceiling: "manage", granted: new Map() };
  const groups = await db.selectFrom("group_members").select("group_id").where("tenant_id", "=", access.tenantId).where("user_id", "=", principal.userId).execute();
  let query = db.selectFrom("grants").select(["resource_type", "resource_id", "permission"]).where("tenant_id", "=", access.tenantId);
  query = query.where((eb) => eb.or([
    eb.and([eb("principal_type", "=", "user"), eb("principal_id", "=", principal.userId)]),
    ...(groups.length ? [eb.and([eb("principal_type", "=", "group"), eb("principal_id", "in", groups.map((group) => group.group_id))])] : []),
  ]));
  const granted = new Map<string, Level>();
  for (const grant of await query.limit(100_000).execute()) {
    const key = `${grant.resource_type}:${grant.resource_id}`;
    granted.set(key, higher(granted.get(key) ?? "none", grant.permission));
  }
  return { blanket: "none", ceiling: ceilingOf(role), granted };
}

function bounded(rights: DocumentRights, level: Level): Level {
  return rank[level] > rank[rights.ceiling] ? rights.ceiling : level;
}

// The caller's level on a folder (null = the company root), following the folder's ancestors.
export async function folderLevel(db: Kysely<DatabaseSchema>, tenantId: string, rights: DocumentRights, folderId: string | null): Promise<Level> {
  let level = rights.blanket;
  let current = folderId;
  for (let depth = 0; current && depth < maxDepth; depth++) {
    level = higher(level, rights.granted.get(`folder:${current}`) ?? "none");
    const folder = await db.selectFrom("folders").select(["parent_id", "deleted_at"]).where("tenant_id", "=", tenantId).where("id", "=", current).executeTakeFirst();
    if (!folder) return "none";
    current = folder.parent_id;
  }
  return bounded(rights, level);
}

export function documentLevelWithin(rights: DocumentRights, documentId: string, inheritedFromFolder: Level): Level {
  return bounded(rights, higher(inheritedFromFolder, rights.granted.get(`document:${documentId}`) ?? "none"));
}

export function childFolderLevelWithin(rights: DocumentRights, folderId: string, inheritedFromParent: Level): Level {
  return bounded(rights, higher(inheritedFromParent, rights.granted.get(`folder:${folderId}`) ?? "none"));
}

// What the company root offers the caller: everything for admins and keys, otherwise the right to add.
export function rootLevel(rights: DocumentRights): Level {
  if (rights.blanket !== "none") return rights.blanket;
  return mayCreateAtRoot(rights) ? "edit" : "view";
}

export function requireLevel(level: Level, needed: Permission, what: string): void {
  if (!atLeast(level, "view")) throw new AppError("not_found", `no such ${what}`);
  if (!atLeast(level, needed)) throw new AppError("forbidden", `your rights on this ${what} do not allow this`);
}

// Creating at the company root: any member who may edit at all (not a viewer).
export function mayCreateAtRoot(rights: DocumentRights): boolean {
  return atLeast(rights.blanket, "edit") || rights.ceiling !== "view";
}
