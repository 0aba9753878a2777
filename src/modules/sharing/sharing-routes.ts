// Share links. Inside the company: /v1/tenants/:tenantId/documents/:id/shares (create, list, withdraw),
// for people who manage the document. Outside: /v1/shared/:token (title, size, whether a PIN is needed),
// …/unlock (PIN → download grant) and …/content (Range downloads). Every public request is on the
// audit trail of the document's company; the token never reaches a log line or an audit record.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, userOf } from "../../http/authenticate.ts";
import type { BlobStore } from "../../store/blob-store.ts";
import { addAuditDetails, setAuditTenant } from "../audit/audit-trail.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import { createShare, type ShareDeps } from "./create-share.ts";
import { openDocumentTitle } from "./document-fields.ts";
import { findShareByToken, requireOpenShareLink } from "./open-share-link.ts";
import { presentShare, type ShareRow } from "./present-share.ts";
import { requireShareableDocument } from "./share-policy.ts";
import { downloadGrantValid, shareTokenPattern } from "./share-secrets.ts";
import { sendDocumentVersion } from "./send-document-version.ts";
import { unlockShare } from "./unlock-share.ts";

export type SharingDeps = ShareDeps & {
  blobStore: BlobStore;
  /** Counts downloads for the mass-download detector (as for company downloads). */
  onDownload?: ((tenantId: string, principalId: string, ip: string) => void) | undefined;
};

type ItemParams = { tenantId: string; id: string };
type ShareParams = ItemParams & { shareId: string };
type LinkParams = { token: string };

const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const itemParams = { type: "object", properties: { tenantId: id, id }, required: ["tenantId", "id"] } as const;
const shareParams = { type: "object", properties: { tenantId: id, id, shareId: id }, required: ["tenantId", "id", "shareId"] } as const;
const linkParams = { type: "object", properties: { token: { type: "string", pattern: shareTokenPattern } }, required: ["token"] } as const;
const createBody = {
  type: "object",
  additionalProperties: false,
  required: ["expiresAt"],
  properties: {
    expiresAt: { type: "string", format: "date-time", maxLength: 40 },
    pin: { type: "boolean" },
    recipientEmail: { type: "string", maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" },
    recipientPhone: { type: "string", pattern: "^\\+[1-9][0-9]{6,14}$" },
  },
} as const;
const grantHeader = "x-share-grant";

// The request line of a public link route is logged by its pattern: the path holds the token.
const tokenFreeLogLine = {
  req: (request: FastifyRequest) => ({ id: request.id, method: request.method, path: request.routeOptions.url, ip: request.ip }),
};

export async function registerSharingRoutes(app: FastifyInstance, deps: SharingDeps, auth: Authenticator): Promise<void> {
  const { db, vault } = deps;

  const companyGate = async (request: FastifyRequest<{ Params: ItemParams }>, includeTrashed: boolean) => {
    const access = await requireTenantAccess(db, userOf(request), request.params.tenantId, "view_tenant", request.ip);
    const document = await requireShareableDocument(db, access, request.params.id, { includeTrashed });
    return { access, document, userId: userOf(request).userId };
  };

  app.post<{ Params: ItemParams; Body: { expiresAt: string; pin?: boolean; recipientEmail?: string; recipientPhone?: string } }>(
    "/v1/tenants/:tenantId/documents/:id/shares",
    { preHandler: auth.requireUser, schema: { params: itemParams, body: createBody } },
    async (request, reply) => {
      const { access, document, userId } = await companyGate(request, false);
      const created = await createShare(deps, {
        tenantId: access.tenantId, documentId: document.id, createdBy: userId, expiresAt: request.body.expiresAt, pin: request.body.pin ?? false,
        recipientEmail: request.body.recipientEmail, recipientPhone: request.body.recipientPhone,
      });
      addAuditDetails(request, { shareId: created.share.id, pin: created.share.pin_hash !== null, expiresAt: created.share.expires_at });
      const { share, ...secrets } = created;
      return reply.code(201).send({ share: await presentShare(vault, share), ...secrets });
    },
  );

  app.get<{ Params: ItemParams }>("/v1/tenants/:tenantId/documents/:id/shares", { preHandler: auth.requireUser, schema: { params: itemParams } }, async (request) => {
    const { access, document } = await companyGate(request, true);
    const rows = await db.selectFrom("document_shares").selectAll().where("tenant_id", "=", access.tenantId).where("document_id", "=", document.id)
      .orderBy("created_at", "desc").limit(500).execute();
    return { shares: await Promise.all(rows.map((row) => presentShare(vault, row))) };
  });

  app.delete<{ Params: ShareParams }>("/v1/tenants/:tenantId/documents/:id/shares/:shareId", { preHandler: auth.requireUser, schema: { params: shareParams } }, async (request) => {
    const { access, document, userId } = await companyGate(request, true);
    const share = await db.selectFrom("document_shares").select("id").where("tenant_id", "=", access.tenantId).where("document_id", "=", document.id)
      .where("id", "=", request.params.shareId).executeTakeFirst();
    if (!share) throw new AppError("not_found", "no such link");
    await db.updateTable("document_shares").set({ revoked_at: new Date().toISOString(), revoked_by: userId })
      .where("tenant_id", "=", access.tenantId).where("id", "=", share.id).where("revoked_at", "is", null).execute();
    return { status: "revoked" };
  });

  // --- The public side: whoever holds the link. ---

  // Looked up before the audit record is begun, so that even the unlock (a write) lands in the company's chain.
  const lookups = new WeakMap<FastifyRequest, Promise<ShareRow | undefined>>();
  const lookUpLink = async (request: FastifyRequest) => {
    const lookup = findShareByToken(db, vault, (request.params as Partial<LinkParams>).token);
    lookups.set(request, lookup);
    const share = await lookup.catch(() => undefined);
    if (share) setAuditTenant(request, share.tenant_id);
  };
  const openLink = async (request: FastifyRequest) => {
    const opened = await requireOpenShareLink(db, await (lookups.get(request) ?? Promise.resolve(undefined)));
    addAuditDetails(request, { shareId: opened.share.id, documentId: opened.document.id });
    return opened;
  };
  const currentVersion = (share: ShareRow, version: number) =>
    db.selectFrom("document_versions").selectAll().where("tenant_id", "=", share.tenant_id).where("document_id", "=", share.document_id)
      .where("version", "=", version).where("state", "=", "complete").executeTakeFirstOrThrow();
  const linkRoute = { onRequest: lookUpLink, logSerializers: tokenFreeLogLine };

  app.get<{ Params: LinkParams }>("/v1/shared/:token", { ...linkRoute, schema: { params: linkParams } }, async (request) => {
    const { share, document } = await openLink(request);
    const version = await currentVersion(share, document.current_version);
    return { title: await openDocumentTitle(vault, document), size: Number(version.size), pinRequired: share.pin_hash !== null };
  });

  app.post<{ Params: LinkParams; Body: { pin: string } }>("/v1/shared/:token/unlock", {
    ...linkRoute,
    schema: { params: linkParams, body: { type: "object", additionalProperties: false, required: ["pin"], properties: { pin: { type: "string", minLength: 1, maxLength: 12 } } } },
  }, async (request) => {
    const { share } = await openLink(request);
    return unlockShare(db, vault, share, request.body.pin);
  });

  app.get<{ Params: LinkParams; Querystring: { grant?: string } }>("/v1/shared/:token/content", {
    ...linkRoute,
    schema: { params: linkParams, querystring: { type: "object", additionalProperties: false, properties: { grant: { type: "string", maxLength: 100 } } } },
  }, async (request, reply) => {
    const { share, document } = await openLink(request);
    if (share.pin_hash && !downloadGrantValid(vault, share.id, request.headers[grantHeader] ?? request.query.grant)) {
      throw new AppError("pin_required", "this link needs its PIN: POST it to …/unlock, then send the grant in X-Share-Grant or ?grant=");
    }
    const version = await currentVersion(share, document.current_version);
    addAuditDetails(request, { version: version.version, range: request.headers.range !== undefined });
    await db.updateTable("document_shares").set((eb) => ({ download_count: eb("download_count", "+", 1), last_download_at: new Date().toISOString() }))
      .where("tenant_id", "=", share.tenant_id).where("id", "=", share.id).execute();
    deps.onDownload?.(share.tenant_id, `share:${share.id}`, request.ip);
    return sendDocumentVersion(reply, deps, version, { rangeHeader: request.headers.range, fallbackName: await openDocumentTitle(vault, document) });
  });
}
