// /v1/tenants/:tenantId/{folders,documents,pages,trash,grants}: a company's files and wiki pages.
// Every handler passes the company gate, then the document rights (404 without view), then one step.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, principalOf } from "../../http/authenticate.ts";
import type { Selectable } from "kysely";
import type { DocumentsTable, Permission } from "../../store/schema.ts";
import { newPublicId } from "../auth/secret-tokens.ts";
import { requireTenantAccess, type TenantAccess } from "../tenants/tenant-access.ts";
import { atLeast, childFolderLevelWithin, documentLevelWithin, folderLevel, loadDocumentRights, mayCreateAtRoot, requireLevel, rootLevel, type DocumentRights, type Level } from "./document-access.ts";
import { filenameContext, openVersion, parseRange, storeNewVersion, type ContentDeps } from "./document-content.ts";

export type DocumentRouteDeps = ContentDeps & {
  onDownload?: ((tenantId: string, principalId: string, ip: string) => void) | undefined;
  onMalware?: ((tenantId: string, principalId: string, ip: string, signature: string) => void) | undefined;
  // The search index follows titles and page text; it never holds up or fails the change itself.
  onChanged?: ((tenantId: string, documentId: string) => Promise<void>) | undefined;
  onRemoved?: ((tenantId: string, documentId: string) => Promise<void>) | undefined;
};

type TenantParams = { tenantId: string };
type ItemParams = { tenantId: string; id: string };

const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const title = { type: "string", minLength: 1, maxLength: 500 } as const;
const tenantParams = { type: "object", properties: { tenantId: id }, required: ["tenantId"] } as const;
const itemParams = { type: "object", properties: { tenantId: id, id }, required: ["tenantId", "id"] } as const;
const body = (properties: Record<string, unknown>, required: string[]) => ({ type: "object", additionalProperties: false, properties, required }) as const;
const maxPageBytes = 1024 * 1024;
const maxChildren = 5000;
const pageSize = 100;
const maxPageSize = 500;
const maxScanBatches = 20;

type DocumentRow = Selectable<DocumentsTable>;

const titleContext = (tenantId: string, documentId: string) => ({ tenantId, objectType: "document", objectId: documentId, objectVersion: 1, field: "title" });
const folderNameContext = (tenantId: string, folderId: string) => ({ tenantId, objectType: "folder", objectId: folderId, objectVersion: 1, field: "name" });

export async function registerDocumentRoutes(app: FastifyInstance, deps: DocumentRouteDeps, auth: Authenticator): Promise<void> {
  const { db, vault } = deps;
  const guarded = { preHandler: auth.requirePrincipal };

  // Uploads arrive as raw bytes and are streamed, never parsed or buffered.
  app.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));

  const gate = async (request: FastifyRequest<{ Params: TenantParams }>, write: boolean): Promise<{ access: TenantAccess; rights: DocumentRights }> => {
    const access = await requireTenantAccess(db, principalOf(request), request.params.tenantId, "view_tenant", request.ip);
    if (write && access.principal.kind === "api_key" && !access.principal.scopes.some((scope) => scope === "write" || scope === "admin")) {
      throw new AppError("insufficient_scope", 'this API key lacks the "write" scope');
    }
    return { access, rights: await loadDocumentRights(db, access) };
  };
  const changed = (request: FastifyRequest, tenantId: string, documentId: string) =>
    deps.onChanged?.(tenantId, documentId).catch((error: unknown) => request.log.error({ err: error }, "search index update failed"));
  const actorId = (access: TenantAccess) => (access.principal.kind === "user" ? access.principal.userId : access.principal.keyId);

  const loadDocument = async (tenantId: string, documentId: string, rights: DocumentRights, options: { includeDeleted?: boolean } = {}) => {
    const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", tenantId).where("id", "=", documentId).executeTakeFirst();
    if (!document || document.current_version === 0 || (document.deleted_at && !options.includeDeleted)) throw new AppError("not_found", "no such document");
    const level = documentLevelWithin(rights, document.id, await folderLevel(db, tenantId, rights, document.folder_id));
    if (!atLeast(level, "view")) throw new AppError("not_found", "no such document");
    return { document, level };
  };
  const loadFolder = async (tenantId: string, folderId: string, rights: DocumentRights) => {
    const folder = await db.selectFrom("folders").selectAll().where("tenant_id", "=", tenantId).where("id", "=", folderId).where("deleted_at", "is", null).executeTakeFirst();
    const level = folder ? await folderLevel(db, tenantId, rights, folder.id) : "none";
    if (!folder || !atLeast(level, "view")) throw new AppError("not_found", "no such folder");
    return { folder, level };
  };
  const levelForNewItem = async (tenantId: string, rights: DocumentRights, folderId: string | null | undefined): Promise<Level> => {
    if (!folderId) return mayCreateAtRoot(rights) ? "edit" : "view";
    return (await loadFolder(tenantId, folderId, rights)).level;
  };
  const grantCreator = async (access: TenantAccess, resourceType: "folder" | "document", resourceId: string) => {
    if (access.principal.kind !== "user") return;
    await db.insertInto("grants").values({
      tenant_id: access.tenantId, resource_type: resourceType, resource_id: resourceId, principal_type: "user",
      principal_id: access.principal.userId, permission: "manage", created_by: access.principal.userId, created_at: new Date().toISOString(),
    }).onConflict((oc) => oc.doNothing()).execute();
  };
  const presentDocument = async (document: DocumentRow, level: Level) => {
    const version = await db.selectFrom("document_versions").select(["size", "content_type"]).where("tenant_id", "=", document.tenant_id)
      .where("document_id", "=", document.id).where("version", "=", document.current_version).executeTakeFirst();
    return presentDocumentWith(document, level, version);
  };
  const presentDocumentWith = async (document: DocumentRow, level: Level, version: { size: number; content_type: string } | undefined) => {
    return {
      id: document.id, kind: document.kind, folderId: document.folder_id,
      title: await vault.data.openString(titleContext(document.tenant_id, document.id), document.title_ciphertext),
      version: document.current_version, size: Number(version?.size ?? 0), contentType: version?.content_type ?? null,
      createdAt: document.created_at, updatedAt: document.updated_at, deletedAt: document.deleted_at, access: level,
    };
  };
  const breadcrumbs = async (tenantId: string, folderId: string | null) => {
    const trail: { id: string; name: string }[] = [];
    for (let current = folderId, depth = 0; current && depth < 64; depth++) {
      const folder = await db.selectFrom("folders").select(["id", "parent_id", "name_ciphertext"]).where("tenant_id", "=", tenantId).where("id", "=", current).executeTakeFirst();
      if (!folder) break;
      trail.unshift({ id: folder.id, name: await vault.data.openString(folderNameContext(tenantId, folder.id), folder.name_ciphertext) });
      current = folder.parent_id;
    }
    return trail;
  };

  // --- Folders ---

  app.post<{ Params: TenantParams; Body: { name: string; parentId?: string } }>("/v1/tenants/:tenantId/folders", {
    ...guarded, schema: { params: tenantParams, body: body({ name: title, parentId: id }, ["name"]) },
  }, async (request, reply) => {
    const { access, rights } = await gate(request, true);
    requireLevel(await levelForNewItem(access.tenantId, rights, request.body.parentId), "edit", "folder");
    const folderId = newPublicId();
    await db.insertInto("folders").values({
      tenant_id: access.tenantId, id: folderId, parent_id: request.body.parentId ?? null,
      name_ciphertext: await vault.data.sealString(folderNameContext(access.tenantId, folderId), request.body.name),
      created_by: actorId(access), created_at: new Date().toISOString(), deleted_at: null,
    }).execute();
    await grantCreator(access, "folder", folderId);
    return reply.code(201).send({ id: folderId });
  });

  app.get<{ Params: ItemParams; Querystring: { limit?: string; after?: string } }>("/v1/tenants/:tenantId/folders/:id", {
    ...guarded,
    schema: { params: itemParams, querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "string", pattern: "^[0-9]{1,3}$" }, after: id } } },
  }, async (request) => {
    const { access, rights } = await gate(request, false);
    const folderId = request.params.id === "root" ? null : request.params.id;
    const limit = Math.min(Math.max(Number(request.query.limit ?? pageSize), 1), maxPageSize);
    const level = folderId ? (await loadFolder(access.tenantId, folderId, rights)).level : rootLevel(rights);
    // What the children inherit: the folder's own level, or at the root only a blanket right.
    const inherited = folderId ? level : rights.blanket;
    const firstPage = !request.query.after;
    const visibleFolders = [];
    if (firstPage) {
      const folders = await db.selectFrom("folders").selectAll().where("tenant_id", "=", access.tenantId)
        .where(folderId ? (eb) => eb("parent_id", "=", folderId) : (eb) => eb("parent_id", "is", null)).where("deleted_at", "is", null).limit(maxChildren).execute();
      for (const folder of folders) {
        const folderLevelHere = childFolderLevelWithin(rights, folder.id, inherited);
        if (atLeast(folderLevelHere, "view")) visibleFolders.push({ id: folder.id, name: await vault.data.openString(folderNameContext(access.tenantId, folder.id), folder.name_ciphertext), access: folderLevelHere });
      }
    }
    // Documents come a page at a time, in id order; rows the caller may not see are skipped, and the
    // scan is bounded so a sparse view cannot make one request read the whole company.
    const page: { document: DocumentRow; level: Level }[] = [];
    let cursor = request.query.after;
    let next: string | null = null;
    for (let batch = 0; batch < maxScanBatches && page.length < limit; batch++) {
      let query = db.selectFrom("documents").selectAll().where("tenant_id", "=", access.tenantId)
        .where("deleted_at", "is", null).where("current_version", ">", 0);
      query = folderId ? query.where("folder_id", "=", folderId) : query.where("folder_id", "is", null);
      if (cursor) query = query.where("id", ">", cursor);
      const rows = await query.orderBy("id").limit(limit).execute();
      for (const document of rows) {
        const documentLevel = documentLevelWithin(rights, document.id, inherited);
        if (atLeast(documentLevel, "view") && page.length < limit) page.push({ document, level: documentLevel });
        cursor = document.id;
      }
      next = rows.length === limit ? cursor ?? null : null;
      if (!next) break;
    }
    const versions = page.length === 0 ? [] : await db.selectFrom("document_versions").select(["document_id", "version", "size", "content_type"])
      .where("tenant_id", "=", access.tenantId).where("document_id", "in", page.map((item) => item.document.id)).where("state", "=", "complete").execute();
    const current = new Map(versions.filter((row) => page.some((item) => item.document.id === row.document_id && item.document.current_version === row.version)).map((row) => [row.document_id, row]));
    const visibleDocuments = await Promise.all(page.map(async ({ document, level: documentLevel }) => presentDocumentWith(document, documentLevel, current.get(document.id))));
    return { id: folderId ?? "root", breadcrumbs: await breadcrumbs(access.tenantId, folderId), access: level, folders: visibleFolders, documents: visibleDocuments, next };
  });

  app.patch<{ Params: ItemParams; Body: { name?: string; parentId?: string | null } }>("/v1/tenants/:tenantId/folders/:id", {
    ...guarded, schema: { params: itemParams, body: body({ name: title, parentId: { type: ["string", "null"], maxLength: 64 } }, []) },
  }, async (request) => {
    const { access, rights } = await gate(request, true);
    const { folder, level } = await loadFolder(access.tenantId, request.params.id, rights);
    requireLevel(level, "manage", "folder");
    if (request.body.parentId !== undefined) {
      requireLevel(await levelForNewItem(access.tenantId, rights, request.body.parentId), "edit", "folder");
      for (let current = request.body.parentId, depth = 0; current && depth < 64; depth++) {
        if (current === folder.id) throw new AppError("conflict", "a folder cannot be moved into itself");
        current = (await db.selectFrom("folders").select("parent_id").where("tenant_id", "=", access.tenantId).where("id", "=", current).executeTakeFirst())?.parent_id ?? null;
      }
    }
    await db.updateTable("folders").set({
      ...(request.body.name ? { name_ciphertext: await vault.data.sealString(folderNameContext(access.tenantId, folder.id), request.body.name) } : {}),
      ...(request.body.parentId !== undefined ? { parent_id: request.body.parentId } : {}),
    }).where("tenant_id", "=", access.tenantId).where("id", "=", folder.id).execute();
    return { id: folder.id };
  });

  // --- Documents and pages ---

  app.post<{ Params: TenantParams; Body: { title: string; folderId?: string; kind?: "file" | "page" } }>("/v1/tenants/:tenantId/documents", {
    ...guarded, schema: { params: tenantParams, body: body({ title, folderId: id, kind: { type: "string", enum: ["file", "page"] } }, ["title"]) },
  }, async (request, reply) => {
    const { access, rights } = await gate(request, true);
    requireLevel(await levelForNewItem(access.tenantId, rights, request.body.folderId), "edit", "folder");
    const documentId = newPublicId();
    const now = new Date().toISOString();
    await db.insertInto("documents").values({
      tenant_id: access.tenantId, id: documentId, folder_id: request.body.folderId ?? null, kind: request.body.kind ?? "file",
      title_ciphertext: await vault.data.sealString(titleContext(access.tenantId, documentId), request.body.title),
      current_version: 0, created_by: actorId(access), created_at: now, updated_at: now, deleted_at: null,
    }).execute();
    await grantCreator(access, "document", documentId);
    return reply.code(201).send({ id: documentId, version: 0 });
  });

  app.put<{ Params: ItemParams; Querystring: { baseVersion: string } }>("/v1/tenants/:tenantId/documents/:id/content", {
    ...guarded,
    bodyLimit: Number.MAX_SAFE_INTEGER,
    schema: { params: itemParams, querystring: { type: "object", additionalProperties: false, properties: { baseVersion: { type: "string", pattern: "^[0-9]{1,9}$" } }, required: ["baseVersion"] } },
  }, async (request, reply) => {
    const { access, rights } = await gate(request, true);
    const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", access.tenantId).where("id", "=", request.params.id).where("deleted_at", "is", null).executeTakeFirst();
    const level = document ? documentLevelWithin(rights, document.id, await folderLevel(db, access.tenantId, rights, document.folder_id)) : "none";
    if (!document || (document.current_version === 0 && document.created_by !== actorId(access) && !atLeast(rights.blanket, "edit"))) throw new AppError("not_found", "no such document");
    requireLevel(level, "edit", "document");
    if (!(request.body && typeof (request.body as Readable).pipe === "function")) throw new AppError("unsupported_media_type", "send the file as application/octet-stream");
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > deps.maxUploadBytes) throw new AppError("payload_too_large", `the upload is larger than the limit of ${deps.maxUploadBytes} bytes`);
    const contentType = String(request.headers["x-content-type"] ?? "application/octet-stream").slice(0, 200);
    const filenameHeader = request.headers["x-filename"];
    const filename = typeof filenameHeader === "string" ? decodeURIComponent(filenameHeader).slice(0, 500) : null;
    if (!/^[\w.+-]+\/[\w.+-]+$/.test(contentType)) throw new AppError("validation_failed", "X-Content-Type must be a media type such as application/pdf");
    const stored = await storeNewVersion(deps, {
      tenantId: access.tenantId, documentId: document.id, baseVersion: Number(request.query.baseVersion),
      body: request.body as Readable, contentType, filename, userId: actorId(access),
    }).catch((error: unknown) => {
      const appError = error as AppError;
      if (appError.code === "malware_detected") deps.onMalware?.(access.tenantId, actorId(access), request.ip, String(appError.details?.signature ?? "unknown"));
      if (appError.code === "scanner_unavailable") request.log.error({ err: error }, "the malware scanner is unavailable: upload refused");
      throw error;
    });
    await changed(request, access.tenantId, document.id);
    return reply.code(201).send(stored);
  });

  app.get<{ Params: ItemParams }>("/v1/tenants/:tenantId/documents/:id", { ...guarded, schema: { params: itemParams } }, async (request) => {
    const { access, rights } = await gate(request, false);
    const { document, level } = await loadDocument(access.tenantId, request.params.id, rights);
    return { ...(await presentDocument(document, level)), breadcrumbs: await breadcrumbs(access.tenantId, document.folder_id) };
  });

  app.get<{ Params: ItemParams; Querystring: { version?: string } }>("/v1/tenants/:tenantId/documents/:id/content", {
    ...guarded, schema: { params: itemParams, querystring: { type: "object", additionalProperties: false, properties: { version: { type: "string", pattern: "^[0-9]{1,9}$" } } } },
  }, async (request, reply) => {
    const { access, rights } = await gate(request, false);
    const { document } = await loadDocument(access.tenantId, request.params.id, rights);
    const version = request.query.version ? Number(request.query.version) : document.current_version;
    const row = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", access.tenantId).where("document_id", "=", document.id)
      .where("version", "=", version).where("state", "=", "complete").executeTakeFirst();
    if (!row) throw new AppError("not_found", "no such version");
    const size = Number(row.size);
    let range;
    try {
      range = parseRange(request.headers.range, size);
    } catch (error) {
      reply.header("content-range", `bytes */${size}`);
      throw error;
    }
    // The file name first: a stream opened and then left unsent (because a later step failed) would
    // report its own failure to no one, as an uncaught error.
    const filename = row.filename_ciphertext ? await vault.data.openString(filenameContext(access.tenantId, document.id, version), row.filename_ciphertext) : `document-${document.id}`;
    const stream = await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, range);
    deps.onDownload?.(access.tenantId, actorId(access), request.ip);
    reply.header("accept-ranges", "bytes");
    reply.header("content-type", row.content_type);
    reply.header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`);
    reply.header("x-document-version", String(version));
    if (range) {
      reply.code(206).header("content-range", `bytes ${range.start}-${range.end}/${size}`).header("content-length", String(range.end - range.start + 1));
    } else {
      reply.header("content-length", String(size));
    }
    return reply.send(stream);
  });

  app.get<{ Params: ItemParams }>("/v1/tenants/:tenantId/documents/:id/versions", { ...guarded, schema: { params: itemParams } }, async (request) => {
    const { access, rights } = await gate(request, false);
    const { document } = await loadDocument(access.tenantId, request.params.id, rights);
    const rows = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", access.tenantId).where("document_id", "=", document.id)
      .where("state", "=", "complete").orderBy("version", "desc").limit(1000).execute();
    return {
      versions: await Promise.all(rows.map(async (row) => ({
        version: row.version, size: Number(row.size), contentType: row.content_type, createdAt: row.created_at, createdBy: row.created_by,
        filename: row.filename_ciphertext ? await vault.data.openString(filenameContext(access.tenantId, document.id, row.version), row.filename_ciphertext) : null,
        current: row.version === document.current_version,
      }))),
    };
  });

  app.post<{ Params: ItemParams & { version: string }; Body: { baseVersion: number } }>("/v1/tenants/:tenantId/documents/:id/versions/:version/restore", {
    ...guarded,
    schema: { params: { type: "object", properties: { tenantId: id, id, version: { type: "string", pattern: "^[0-9]{1,9}$" } }, required: ["tenantId", "id", "version"] }, body: body({ baseVersion: { type: "integer", minimum: 0 } }, ["baseVersion"]) },
  }, async (request, reply) => {
    const { access, rights } = await gate(request, true);
    const { document, level } = await loadDocument(access.tenantId, request.params.id, rights);
    requireLevel(level, "edit", "document");
    const row = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", access.tenantId).where("document_id", "=", document.id)
      .where("version", "=", Number(request.params.version)).where("state", "=", "complete").executeTakeFirst();
    if (!row) throw new AppError("not_found", "no such version");
    const filename = row.filename_ciphertext ? await vault.data.openString(filenameContext(access.tenantId, document.id, row.version), row.filename_ciphertext) : null;
    const stored = await storeNewVersion(deps, {
      tenantId: access.tenantId, documentId: document.id, baseVersion: request.body.baseVersion,
      body: await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, undefined), contentType: row.content_type, filename, userId: actorId(access),
    });
    await changed(request, access.tenantId, document.id);
    return reply.code(201).send({ ...stored, restoredFrom: row.version });
  });

  app.patch<{ Params: ItemParams; Body: { title?: string; folderId?: string | null } }>("/v1/tenants/:tenantId/documents/:id", {
    ...guarded, schema: { params: itemParams, body: body({ title, folderId: { type: ["string", "null"], maxLength: 64 } }, []) },
  }, async (request) => {
    const { access, rights } = await gate(request, true);
    const { document, level } = await loadDocument(access.tenantId, request.params.id, rights);
    requireLevel(level, request.body.folderId !== undefined ? "manage" : "edit", "document");
    if (request.body.folderId !== undefined) requireLevel(await levelForNewItem(access.tenantId, rights, request.body.folderId), "edit", "folder");
    await db.updateTable("documents").set({
      ...(request.body.title ? { title_ciphertext: await vault.data.sealString(titleContext(access.tenantId, document.id), request.body.title) } : {}),
      ...(request.body.folderId !== undefined ? { folder_id: request.body.folderId } : {}),
      updated_at: new Date().toISOString(),
    }).where("tenant_id", "=", access.tenantId).where("id", "=", document.id).execute();
    if (request.body.title) await changed(request, access.tenantId, document.id);
    return { id: document.id };
  });

  app.delete<{ Params: ItemParams }>("/v1/tenants/:tenantId/documents/:id", { ...guarded, schema: { params: itemParams } }, async (request) => {
    const { access, rights } = await gate(request, true);
    const { document, level } = await loadDocument(access.tenantId, request.params.id, rights);
    requireLevel(level, "manage", "document");
    await db.updateTable("documents").set({ deleted_at: new Date().toISOString() }).where("tenant_id", "=", access.tenantId).where("id", "=", document.id).execute();
    return { status: "in_trash" };
  });

  // Pages: Markdown text, versioned like files (sealed in the blob store), edited with optimistic concurrency.
  app.get<{ Params: ItemParams }>("/v1/tenants/:tenantId/pages/:id", { ...guarded, schema: { params: itemParams } }, async (request) => {
    const { access, rights } = await gate(request, false);
    const { document, level } = await loadDocument(access.tenantId, request.params.id, rights);
    if (document.kind !== "page") throw new AppError("not_found", "no such page");
    const row = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", access.tenantId).where("document_id", "=", document.id).where("version", "=", document.current_version).executeTakeFirstOrThrow();
    const chunks: Buffer[] = [];
    for await (const chunk of await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, undefined)) chunks.push(chunk as Buffer);
    return { ...(await presentDocument(document, level)), text: Buffer.concat(chunks).toString("utf8") };
  });

  app.put<{ Params: ItemParams; Body: { text: string; baseVersion: number } }>("/v1/tenants/:tenantId/pages/:id", {
    ...guarded, schema: { params: itemParams, body: body({ text: { type: "string", maxLength: maxPageBytes }, baseVersion: { type: "integer", minimum: 0 } }, ["text", "baseVersion"]) },
  }, async (request) => {
    const { access, rights } = await gate(request, true);
    const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", access.tenantId).where("id", "=", request.params.id).where("deleted_at", "is", null).executeTakeFirst();
    if (!document || document.kind !== "page" || (document.current_version === 0 && document.created_by !== actorId(access) && !atLeast(rights.blanket, "edit"))) throw new AppError("not_found", "no such page");
    requireLevel(documentLevelWithin(rights, document.id, await folderLevel(db, access.tenantId, rights, document.folder_id)), "edit", "page");
    const { Readable } = await import("node:stream");
    const stored = await storeNewVersion(deps, {
      tenantId: access.tenantId, documentId: document.id, baseVersion: request.body.baseVersion,
      body: Readable.from([Buffer.from(request.body.text, "utf8")]), contentType: "text/markdown", filename: null, userId: actorId(access),
    });
    await changed(request, access.tenantId, document.id);
    return stored;
  });

  // --- Trash ---

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/trash", { ...guarded, schema: { params: tenantParams } }, async (request) => {
    const { access, rights } = await gate(request, false);
    const rows = await db.selectFrom("documents").selectAll().where("tenant_id", "=", access.tenantId).where("deleted_at", "is not", null).limit(maxChildren).execute();
    const items = [];
    for (const document of rows) {
      const level = documentLevelWithin(rights, document.id, await folderLevel(db, access.tenantId, rights, document.folder_id));
      if (atLeast(level, "manage")) items.push(await presentDocument(document, level));
    }
    return { documents: items };
  });

  app.post<{ Params: ItemParams }>("/v1/tenants/:tenantId/trash/:id/restore", { ...guarded, schema: { params: itemParams } }, async (request) => {
    const { access, rights } = await gate(request, true);
    const { document, level } = await loadDocument(access.tenantId, request.params.id, rights, { includeDeleted: true });
    requireLevel(level, "manage", "document");
    if (!document.deleted_at) throw new AppError("conflict", "the document is not in the trash");
    await db.updateTable("documents").set({ deleted_at: null }).where("tenant_id", "=", access.tenantId).where("id", "=", document.id).execute();
    return { status: "restored" };
  });

  app.delete<{ Params: TenantParams }>("/v1/tenants/:tenantId/trash", { ...guarded, schema: { params: tenantParams } }, async (request) => {
    const access = await requireTenantAccess(db, principalOf(request), request.params.tenantId, "manage_settings", request.ip);
    const rows = await db.selectFrom("documents").select("id").where("tenant_id", "=", access.tenantId).where("deleted_at", "is not", null).limit(10_000).execute();
    for (const { id: documentId } of rows) {
      const versions = await db.selectFrom("document_versions").select("blob_key").where("tenant_id", "=", access.tenantId).where("document_id", "=", documentId).execute();
      for (const version of versions) await deps.blobStore.delete(version.blob_key);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom("document_versions").where("tenant_id", "=", access.tenantId).where("document_id", "=", documentId).execute();
        await trx.deleteFrom("grants").where("tenant_id", "=", access.tenantId).where("resource_type", "=", "document").where("resource_id", "=", documentId).execute();
        await trx.deleteFrom("documents").where("tenant_id", "=", access.tenantId).where("id", "=", documentId).execute();
      });
      await deps.onRemoved?.(access.tenantId, documentId).catch((error: unknown) => request.log.error({ err: error }, "search index removal failed"));
    }
    return { deleted: rows.length };
  });

  // --- Rights ---

  const grantTarget = { type: "string", enum: ["folder", "document"] } as const;
  app.get<{ Params: TenantParams; Querystring: { resourceType: "folder" | "document"; resourceId: string } }>("/v1/tenants/:tenantId/grants", {
    ...guarded, schema: { params: tenantParams, querystring: body({ resourceType: grantTarget, resourceId: id }, ["resourceType", "resourceId"]) },
  }, async (request) => {
    const { access, rights } = await gate(request, false);
    await requireResourceLevel(access, rights, request.query.resourceType, request.query.resourceId, "manage");
    const grants = await db.selectFrom("grants").select(["principal_type", "principal_id", "permission"]).where("tenant_id", "=", access.tenantId)
      .where("resource_type", "=", request.query.resourceType).where("resource_id", "=", request.query.resourceId).limit(1000).execute();
    return { grants: grants.map((grant) => ({ principalType: grant.principal_type, principalId: grant.principal_id, permission: grant.permission })) };
  });

  app.put<{ Params: TenantParams; Body: { resourceType: "folder" | "document"; resourceId: string; principalType: "user" | "group"; principalId: string; permission: Permission | null } }>("/v1/tenants/:tenantId/grants", {
    ...guarded,
    schema: {
      params: tenantParams,
      body: body({ resourceType: grantTarget, resourceId: id, principalType: { type: "string", enum: ["user", "group"] }, principalId: id, permission: { type: ["string", "null"], enum: ["view", "edit", "manage", null] } }, ["resourceType", "resourceId", "principalType", "principalId", "permission"]),
    },
  }, async (request) => {
    const { access, rights } = await gate(request, true);
    const input = request.body;
    await requireResourceLevel(access, rights, input.resourceType, input.resourceId, "manage");
    const principalExists = input.principalType === "user"
      ? await db.selectFrom("memberships").select("user_id").where("tenant_id", "=", access.tenantId).where("user_id", "=", input.principalId).executeTakeFirst()
      : await db.selectFrom("groups").select("id").where("tenant_id", "=", access.tenantId).where("id", "=", input.principalId).executeTakeFirst();
    if (!principalExists) throw new AppError("not_found", `no such ${input.principalType} in this company`);
    await db.deleteFrom("grants").where("tenant_id", "=", access.tenantId).where("resource_type", "=", input.resourceType).where("resource_id", "=", input.resourceId)
      .where("principal_type", "=", input.principalType).where("principal_id", "=", input.principalId).execute();
    if (input.permission) {
      await db.insertInto("grants").values({
        tenant_id: access.tenantId, resource_type: input.resourceType, resource_id: input.resourceId, principal_type: input.principalType,
        principal_id: input.principalId, permission: input.permission, created_by: actorId(access), created_at: new Date().toISOString(),
      }).execute();
    }
    return { permission: input.permission };
  });

  async function requireResourceLevel(access: TenantAccess, rights: DocumentRights, type: "folder" | "document", resourceId: string, needed: Permission): Promise<void> {
    if (type === "folder") requireLevel((await loadFolder(access.tenantId, resourceId, rights)).level, needed, "folder");
    else requireLevel((await loadDocument(access.tenantId, resourceId, rights)).level, needed, "document");
  }
}
