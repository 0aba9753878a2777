// Support access. The company side (/v1/tenants/:tenantId/support-access): owners and admins grant a
// named operator time-limited read access, list and withdraw grants. The operator side (/v1/support/…):
// a signed-in operator, from the operator CIDRs, with a live grant for that company, READS its folders
// and documents; there is no write route. Every support read is on the company's audit trail with the
// operator as actor, so the company sees it on its audit page.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, userOf } from "../../http/authenticate.ts";
import type { BlobStore } from "../../store/blob-store.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { addAuditDetails, setAuditOperator } from "../audit/audit-trail.ts";
import { operatorOf, type OperatorAccess } from "../operators/operator-access.ts";
import { openDocumentTitle, openFolderName } from "../sharing/document-fields.ts";
import { sendDocumentVersion } from "../sharing/send-document-version.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import { grantSupportAccess, presentSupportGrant, requireSupportGrant, revokeSupportGrant } from "./support-grants.ts";

export type SupportAccessDeps = { db: Kysely<DatabaseSchema>; vault: Vault; blobStore: BlobStore };

type TenantParams = { tenantId: string };
type ItemParams = TenantParams & { id: string };

const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const tenantParams = { type: "object", properties: { tenantId: id }, required: ["tenantId"] } as const;
const itemParams = { type: "object", properties: { tenantId: id, id }, required: ["tenantId", "id"] } as const;
const grantParams = { type: "object", properties: { tenantId: id, grantId: id }, required: ["tenantId", "grantId"] } as const;
const grantBody = {
  type: "object",
  additionalProperties: false,
  required: ["operator", "expiresAt"],
  properties: {
    operator: { type: "string", minLength: 1, maxLength: 64 },
    expiresAt: { type: "string", format: "date-time", maxLength: 40 },
    reason: { type: "string", maxLength: 500 },
  },
} as const;
const maxListed = 5000;

export async function registerSupportAccessRoutes(app: FastifyInstance, deps: SupportAccessDeps, auth: Authenticator, operatorAccess: OperatorAccess): Promise<void> {
  const { db, vault } = deps;
  const usernames = async (operatorIds: string[]) => {
    const rows = operatorIds.length ? await db.selectFrom("operators").select(["id", "username"]).where("id", "in", [...new Set(operatorIds)]).execute() : [];
    return new Map(rows.map((row) => [row.id, row.username]));
  };
  // Granting lets someone outside the company read everything in it: a person who administers it decides.
  const companyGate = (request: FastifyRequest<{ Params: TenantParams }>) =>
    requireTenantAccess(db, userOf(request), request.params.tenantId, "manage_settings", request.ip);

  app.post<{ Params: TenantParams; Body: { operator: string; expiresAt: string; reason?: string } }>("/v1/tenants/:tenantId/support-access", {
    preHandler: auth.requireUser, schema: { params: tenantParams, body: grantBody },
  }, async (request, reply) => {
    const access = await companyGate(request);
    const grant = await grantSupportAccess(db, vault, {
      tenantId: access.tenantId, operatorUsername: request.body.operator, expiresAt: request.body.expiresAt, reason: request.body.reason, grantedBy: userOf(request).userId,
    });
    addAuditDetails(request, { supportGrantId: grant.id, operatorId: grant.operator_id, expiresAt: grant.expires_at });
    return reply.code(201).send({ grant: await presentSupportGrant(vault, grant, (await usernames([grant.operator_id])).get(grant.operator_id) ?? "") });
  });

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/support-access", { preHandler: auth.requireUser, schema: { params: tenantParams } }, async (request) => {
    const access = await companyGate(request);
    const rows = await db.selectFrom("support_access_grants").selectAll().where("tenant_id", "=", access.tenantId).orderBy("created_at", "desc").limit(200).execute();
    const names = await usernames(rows.map((row) => row.operator_id));
    return { grants: await Promise.all(rows.map((row) => presentSupportGrant(vault, row, names.get(row.operator_id) ?? ""))) };
  });

  app.delete<{ Params: TenantParams & { grantId: string } }>("/v1/tenants/:tenantId/support-access/:grantId", {
    preHandler: auth.requireUser, schema: { params: grantParams },
  }, async (request) => {
    const access = await companyGate(request);
    await revokeSupportGrant(db, access.tenantId, request.params.grantId, userOf(request).userId);
    return { status: "revoked" };
  });

  // --- The operator side: reads only. ---

  const asOperator = async (request: FastifyRequest) => {
    await operatorAccess.requireOperatorSession(request);
    const { operator } = operatorOf(request);
    setAuditOperator(request, operator.id);
    addAuditDetails(request, { operator: operator.username });
  };
  const operatorRoute = { preHandler: asOperator };
  const supportGate = async (request: FastifyRequest<{ Params: TenantParams }>) => {
    const grant = await requireSupportGrant(db, request.params.tenantId, operatorOf(request).operator.id);
    addAuditDetails(request, { supportGrantId: grant.id });
    return grant;
  };
  const loadDocument = async (tenantId: string, documentId: string) => {
    const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", tenantId).where("id", "=", documentId)
      .where("deleted_at", "is", null).where("current_version", ">", 0).executeTakeFirst();
    if (!document) throw new AppError("not_found", "no such document");
    return document;
  };
  const presentDocument = async (document: Awaited<ReturnType<typeof loadDocument>>) => {
    const version = await db.selectFrom("document_versions").select(["size", "content_type"]).where("tenant_id", "=", document.tenant_id)
      .where("document_id", "=", document.id).where("version", "=", document.current_version).executeTakeFirst();
    return {
      id: document.id, kind: document.kind, folderId: document.folder_id, title: await openDocumentTitle(vault, document),
      version: document.current_version, size: Number(version?.size ?? 0), contentType: version?.content_type ?? null,
      createdAt: document.created_at, updatedAt: document.updated_at,
    };
  };

  app.get("/v1/support/grants", operatorRoute, async (request) => {
    const { operator } = operatorOf(request);
    const rows = await db.selectFrom("support_access_grants").selectAll().where("operator_id", "=", operator.id)
      .where("revoked_at", "is", null).where("expires_at", ">", new Date().toISOString()).orderBy("expires_at").limit(200).execute();
    return { grants: rows.map((row) => ({ id: row.id, tenantId: row.tenant_id, createdAt: row.created_at, expiresAt: row.expires_at })) };
  });

  app.get<{ Params: ItemParams }>("/v1/support/tenants/:tenantId/folders/:id", { ...operatorRoute, schema: { params: itemParams } }, async (request) => {
    const grant = await supportGate(request);
    const folderId = request.params.id === "root" ? null : request.params.id;
    if (folderId) {
      const folder = await db.selectFrom("folders").select("id").where("tenant_id", "=", grant.tenant_id).where("id", "=", folderId).where("deleted_at", "is", null).executeTakeFirst();
      if (!folder) throw new AppError("not_found", "no such folder");
    }
    const folders = await db.selectFrom("folders").selectAll().where("tenant_id", "=", grant.tenant_id)
      .where(folderId ? (eb) => eb("parent_id", "=", folderId) : (eb) => eb("parent_id", "is", null)).where("deleted_at", "is", null).limit(maxListed).execute();
    const documents = await db.selectFrom("documents").selectAll().where("tenant_id", "=", grant.tenant_id)
      .where(folderId ? (eb) => eb("folder_id", "=", folderId) : (eb) => eb("folder_id", "is", null))
      .where("deleted_at", "is", null).where("current_version", ">", 0).limit(maxListed).execute();
    return {
      id: folderId ?? "root",
      folders: await Promise.all(folders.map(async (folder) => ({ id: folder.id, name: await openFolderName(vault, folder) }))),
      documents: await Promise.all(documents.map(presentDocument)),
    };
  });

  app.get<{ Params: ItemParams }>("/v1/support/tenants/:tenantId/documents/:id", { ...operatorRoute, schema: { params: itemParams } }, async (request) => {
    const grant = await supportGate(request);
    return presentDocument(await loadDocument(grant.tenant_id, request.params.id));
  });

  app.get<{ Params: ItemParams; Querystring: { version?: string } }>("/v1/support/tenants/:tenantId/documents/:id/content", {
    ...operatorRoute,
    schema: { params: itemParams, querystring: { type: "object", additionalProperties: false, properties: { version: { type: "string", pattern: "^[0-9]{1,9}$" } } } },
  }, async (request, reply) => {
    const grant = await supportGate(request);
    const document = await loadDocument(grant.tenant_id, request.params.id);
    const version = request.query.version ? Number(request.query.version) : document.current_version;
    const row = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", grant.tenant_id).where("document_id", "=", document.id)
      .where("version", "=", version).where("state", "=", "complete").executeTakeFirst();
    if (!row) throw new AppError("not_found", "no such version");
    addAuditDetails(request, { documentId: document.id, version });
    return sendDocumentVersion(reply, deps, row, { rangeHeader: request.headers.range, fallbackName: `document-${document.id}` });
  });
}
