// GET /v1/tenants/:tenantId/search?q=…&limit=…: the caller's documents and pages whose title or page
// text holds the query's words. Only the path is ever logged or audited, never the query.
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, principalOf } from "../../http/authenticate.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { loadDocumentRights } from "../documents/document-access.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import { maxSearchResults, searchDocuments } from "./search-documents.ts";
import { maxQueryLength } from "./search-terms.ts";

export type SearchRouteDeps = { db: Kysely<DatabaseSchema>; vault: Vault };

const defaultLimit = 20;

export async function registerSearchRoutes(app: FastifyInstance, deps: SearchRouteDeps, auth: Authenticator): Promise<void> {
  app.get<{ Params: { tenantId: string }; Querystring: { q: string; limit?: string } }>("/v1/tenants/:tenantId/search", {
    preHandler: auth.requirePrincipal,
    schema: {
      params: { type: "object", properties: { tenantId: { type: "string", minLength: 1, maxLength: 64 } }, required: ["tenantId"] },
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { q: { type: "string", minLength: 1, maxLength: maxQueryLength }, limit: { type: "string", pattern: "^[0-9]{1,3}$" } },
        required: ["q"],
      },
    },
  }, async (request) => {
    const access = await requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "view_tenant", request.ip);
    const limit = request.query.limit === undefined ? defaultLimit : Number(request.query.limit);
    if (limit < 1 || limit > maxSearchResults) throw new AppError("validation_failed", `limit must be between 1 and ${maxSearchResults}`);
    const rights = await loadDocumentRights(deps.db, access);
    return { results: await searchDocuments(deps, access.tenantId, rights, request.query.q, limit) };
  });
}
