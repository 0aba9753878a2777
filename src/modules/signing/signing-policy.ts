// Who may do what with signature requests, in one place.
// - Sending a document for signature needs the company action `send_for_signature` (a member, or an API
//   key with the "sign" scope) and, for a person, the `edit` right on the document: sending it out is
//   work on the document (it gains a signed, sealed final PDF), which viewers do not do. API keys act on
//   every document of their company, as they do for reading and writing.
// - A request is seen by people who may view its document and managed (cancel, remind, new PIN) by its
//   sender or by people who manage the document. A request of another company, or on a document the
//   caller cannot see, does not exist for them (404).
import type { Kysely, Selectable } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema, DocumentsTable, DocumentVersionsTable, SignatureRequestsTable } from "../../store/schema.ts";
import { documentLevelWithin, folderLevel, loadDocumentRights, requireLevel, type Level } from "../documents/document-access.ts";
import type { TenantAccess } from "../tenants/tenant-access.ts";

export type DocumentRow = Selectable<DocumentsTable>;
export type RequestRow = Selectable<SignatureRequestsTable>;

async function levelOn(db: Kysely<DatabaseSchema>, access: TenantAccess, document: DocumentRow): Promise<Level> {
  if (access.principal.kind === "api_key") return "manage";
  const rights = await loadDocumentRights(db, access);
  return documentLevelWithin(rights, document.id, await folderLevel(db, access.tenantId, rights, document.folder_id));
}

export function actorIdOf(access: TenantAccess): string {
  return access.principal.kind === "user" ? access.principal.userId : access.principal.keyId;
}

// The PDF version to be signed: the document's current version, which must be a complete PDF.
export async function requireSignableDocument(db: Kysely<DatabaseSchema>, access: TenantAccess, documentId: string): Promise<{ document: DocumentRow; version: Selectable<DocumentVersionsTable> }> {
  const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", access.tenantId).where("id", "=", documentId).executeTakeFirst();
  if (!document || document.deleted_at || document.current_version === 0) throw new AppError("not_found", "no such document");
  requireLevel(await levelOn(db, access, document), "edit", "document");
  const version = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", access.tenantId).where("document_id", "=", document.id)
    .where("version", "=", document.current_version).where("state", "=", "complete").executeTakeFirst();
  if (!version) throw new AppError("not_found", "no such document");
  if (document.kind !== "file" || version.content_type !== "application/pdf") {
    throw new AppError("validation_failed", "only a PDF document can be sent for signature");
  }
  return { document, version };
}

// A request of the caller's company whose document they may see; `manage` for changes to it.
export async function requireSignatureRequest(db: Kysely<DatabaseSchema>, access: TenantAccess, requestId: string, need: "view" | "manage"): Promise<RequestRow> {
  const notFound = new AppError("not_found", "no such signature request");
  const request = await db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", access.tenantId).where("id", "=", requestId).executeTakeFirst();
  if (!request) throw notFound;
  const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", access.tenantId).where("id", "=", request.document_id).executeTakeFirst();
  const level = document ? await levelOn(db, access, document) : "none";
  const isSender = access.principal.kind === "user" && access.principal.userId === request.created_by;
  if (level === "none" && !isSender) throw notFound;
  if (need === "manage" && !isSender && level !== "manage") throw new AppError("forbidden", "only the sender or a manager of the document may change this request");
  return request;
}
