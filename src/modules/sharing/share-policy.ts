// Who may share a document outside the company: a person with `manage` on it (the right that also
// decides who inside the company sees it), never a viewer, never an API key. A link stands on its
// creator's right: once they leave the company or lose `manage`, their links stop working.
import type { Kysely, Selectable } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { UserPrincipal } from "../../http/authenticate.ts";
import type { DatabaseSchema, DocumentsTable } from "../../store/schema.ts";
import { atLeast, documentLevelWithin, folderLevel, loadDocumentRights, requireLevel, type Level } from "../documents/document-access.ts";
import type { TenantAccess } from "../tenants/tenant-access.ts";

export type DocumentRow = Selectable<DocumentsTable>;

async function levelOn(db: Kysely<DatabaseSchema>, access: TenantAccess, document: DocumentRow): Promise<Level> {
  const rights = await loadDocumentRights(db, access);
  return documentLevelWithin(rights, document.id, await folderLevel(db, access.tenantId, rights, document.folder_id));
}

// The document whose links the caller manages: 404 unless they may see it, 403 unless they manage it.
export async function requireShareableDocument(db: Kysely<DatabaseSchema>, access: TenantAccess, documentId: string, options: { includeTrashed: boolean }): Promise<DocumentRow> {
  const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", access.tenantId).where("id", "=", documentId).executeTakeFirst();
  if (!document || document.current_version === 0 || (document.deleted_at && !options.includeTrashed)) throw new AppError("not_found", "no such document");
  requireLevel(await levelOn(db, access, document), "manage", "document");
  return document;
}

export async function creatorMayStillShare(db: Kysely<DatabaseSchema>, creatorId: string, document: DocumentRow): Promise<boolean> {
  const membership = await db.selectFrom("memberships").select(["role", "status"])
    .where("tenant_id", "=", document.tenant_id).where("user_id", "=", creatorId).executeTakeFirst();
  if (!membership || membership.status !== "active") return false;
  // The rights of a member, not of one of their sessions: loadDocumentRights reads the user id and role only.
  const principal = { kind: "user", userId: creatorId } as UserPrincipal;
  return atLeast(await levelOn(db, { tenantId: document.tenant_id, role: membership.role, principal }, document), "manage");
}
