// The sender's side: /v1/tenants/:tenantId/signature-requests (create, list, get with recipients and
// evidence, send, cancel, remind, a new PIN for a locked recipient, the signed PDF). People and API
// keys with the "sign" scope; who may do what is in signing-policy.ts.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, principalOf } from "../../http/authenticate.ts";
import { addAuditDetails } from "../audit/audit-trail.ts";
import { openDocumentTitle } from "../sharing/document-fields.ts";
import { requireTenantAccess, type TenantAccess } from "../tenants/tenant-access.ts";
import { cancelSignatureRequest } from "./cancel-signature-request.ts";
import { finalPdfName } from "./complete-signature-request.ts";
import { createSignatureRequest, fieldKinds, recipientRoles, signingLimits, type NewField, type NewRecipient } from "./create-signature-request.ts";
import { openFinalPdf } from "./open-final-pdf.ts";
import { presentRequestSummary, presentSignatureRequest } from "./present-signature-request.ts";
import { reissueSigningPin } from "./reissue-signing-pin.ts";
import { remindRecipients } from "./remind-recipients.ts";
import { sendSignatureRequest } from "./send-signature-request.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { openRequestTitle } from "./signing-fields.ts";
import { actorIdOf, requireSignableDocument, requireSignatureRequest } from "./signing-policy.ts";

type TenantParams = { tenantId: string };
type RequestParams = TenantParams & { requestId: string };
type RecipientParams = RequestParams & { recipientId: string };
type CreateBody = {
  documentId: string; title?: string; message?: string; order: "parallel" | "sequential"; expiresAt: string; reminderDays?: number;
  recipients: NewRecipient[]; fields?: NewField[]; send?: boolean;
};

const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const tenantParams = { type: "object", properties: { tenantId: id }, required: ["tenantId"] } as const;
const requestParams = { type: "object", properties: { tenantId: id, requestId: id }, required: ["tenantId", "requestId"] } as const;
const recipientParams = { type: "object", properties: { tenantId: id, requestId: id, recipientId: id }, required: ["tenantId", "requestId", "recipientId"] } as const;
const point = { type: "number", minimum: 0, maximum: signingLimits.maxCoordinate } as const;
const createBody = {
  type: "object",
  additionalProperties: false,
  required: ["documentId", "order", "expiresAt", "recipients"],
  properties: {
    documentId: id,
    title: { type: "string", minLength: 1, maxLength: signingLimits.titleLength },
    message: { type: "string", maxLength: signingLimits.messageLength },
    order: { type: "string", enum: ["parallel", "sequential"] },
    expiresAt: { type: "string", format: "date-time", maxLength: 40 },
    reminderDays: { type: "integer", minimum: 1, maximum: signingLimits.maxReminderDays },
    send: { type: "boolean" },
    recipients: {
      type: "array", minItems: 1, maxItems: signingLimits.recipients,
      items: {
        type: "object", additionalProperties: false, required: ["name", "email", "role"],
        properties: {
          name: { type: "string", minLength: 1, maxLength: signingLimits.nameLength },
          email: { type: "string", maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" },
          phone: { type: "string", pattern: "^\\+[1-9][0-9]{6,14}$" },
          role: { type: "string", enum: recipientRoles },
        },
      },
    },
    fields: {
      type: "array", maxItems: signingLimits.fields,
      items: {
        type: "object", additionalProperties: false, required: ["recipient", "kind", "page", "x", "y", "width", "height"],
        properties: {
          recipient: { type: "integer", minimum: 0, maximum: signingLimits.recipients - 1 },
          kind: { type: "string", enum: fieldKinds },
          page: { type: "integer", minimum: 0, maximum: signingLimits.maxPage },
          x: point, y: point, width: point, height: point,
          required: { type: "boolean" },
        },
      },
    },
  },
} as const;
const listQuery = {
  type: "object", additionalProperties: false,
  properties: { documentId: id, status: { type: "string", enum: ["draft", "sent", "completed", "cancelled", "declined", "expired"] } },
} as const;
const maxListed = 200;

export async function registerSigningRoutes(app: FastifyInstance, deps: SigningDeps, auth: Authenticator): Promise<void> {
  const { db, vault } = deps;
  const guarded = { preHandler: auth.requirePrincipal };
  const gate = (request: FastifyRequest<{ Params: TenantParams }>): Promise<TenantAccess> =>
    requireTenantAccess(db, principalOf(request), request.params.tenantId, "send_for_signature", request.ip);
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers["user-agent"] });
  const loadRequest = async (request: FastifyRequest<{ Params: RequestParams }>, need: "view" | "manage") => {
    const access = await gate(request);
    const found = await requireSignatureRequest(db, access, request.params.requestId, need);
    addAuditDetails(request, { signatureRequestId: found.id, documentId: found.document_id });
    return found;
  };
  const present = async (tenantId: string, requestId: string) =>
    presentSignatureRequest(deps, await db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", tenantId).where("id", "=", requestId).executeTakeFirstOrThrow());

  app.post<{ Params: TenantParams; Body: CreateBody }>("/v1/tenants/:tenantId/signature-requests",
    { ...guarded, schema: { params: tenantParams, body: createBody } }, async (request, reply) => {
      const access = await gate(request);
      const { document, version } = await requireSignableDocument(db, access, request.body.documentId);
      const { id: requestId } = await createSignatureRequest(deps, {
        tenantId: access.tenantId, createdBy: actorIdOf(access), document, version: version.version, documentTitle: await openDocumentTitle(vault, document),
        title: request.body.title, message: request.body.message, order: request.body.order, expiresAt: request.body.expiresAt,
        reminderDays: request.body.reminderDays, recipients: request.body.recipients, fields: request.body.fields ?? [], ...meta(request),
      });
      addAuditDetails(request, { signatureRequestId: requestId, documentId: document.id, version: version.version, recipients: request.body.recipients.length });
      if (request.body.send) {
        const created = await db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", access.tenantId).where("id", "=", requestId).executeTakeFirstOrThrow();
        await sendSignatureRequest(deps, created);
        addAuditDetails(request, { sent: true });
      }
      return reply.code(201).send(await present(access.tenantId, requestId));
    });

  app.get<{ Params: TenantParams; Querystring: { documentId?: string; status?: string } }>("/v1/tenants/:tenantId/signature-requests",
    { ...guarded, schema: { params: tenantParams, querystring: listQuery } }, async (request) => {
      const access = await gate(request);
      let query = db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", access.tenantId);
      if (request.query.documentId) query = query.where("document_id", "=", request.query.documentId);
      if (request.query.status) query = query.where("status", "=", request.query.status as "sent");
      const rows = await query.orderBy("created_at", "desc").limit(maxListed).execute();
      const visible = [];
      for (const row of rows) {
        const allowed = await requireSignatureRequest(db, access, row.id, "view").then(() => true, () => false);
        if (allowed) visible.push(await presentRequestSummary(vault, row));
      }
      return { signatureRequests: visible };
    });

  app.get<{ Params: RequestParams }>("/v1/tenants/:tenantId/signature-requests/:requestId", { ...guarded, schema: { params: requestParams } }, async (request) => {
    const found = await loadRequest(request, "view");
    return presentSignatureRequest(deps, found);
  });

  app.post<{ Params: RequestParams }>("/v1/tenants/:tenantId/signature-requests/:requestId/send", { ...guarded, schema: { params: requestParams } }, async (request) => {
    const found = await loadRequest(request, "manage");
    await sendSignatureRequest(deps, found);
    return present(found.tenant_id, found.id);
  });

  app.post<{ Params: RequestParams }>("/v1/tenants/:tenantId/signature-requests/:requestId/cancel", { ...guarded, schema: { params: requestParams } }, async (request) => {
    const found = await loadRequest(request, "manage");
    await cancelSignatureRequest(deps, found, meta(request));
    return present(found.tenant_id, found.id);
  });

  app.post<{ Params: RequestParams }>("/v1/tenants/:tenantId/signature-requests/:requestId/remind", { ...guarded, schema: { params: requestParams } }, async (request) => {
    const found = await loadRequest(request, "manage");
    const { reminded } = await remindRecipients(deps, found);
    addAuditDetails(request, { reminded });
    return { reminded };
  });

  app.post<{ Params: RecipientParams }>("/v1/tenants/:tenantId/signature-requests/:requestId/recipients/:recipientId/new-pin",
    { ...guarded, schema: { params: recipientParams } }, async (request) => {
      const found = await loadRequest(request, "manage");
      await reissueSigningPin(deps, found, request.params.recipientId);
      addAuditDetails(request, { recipientId: request.params.recipientId });
      return { status: "sent" };
    });

  app.get<{ Params: RequestParams }>("/v1/tenants/:tenantId/signature-requests/:requestId/final-pdf", { ...guarded, schema: { params: requestParams } }, async (request, reply) => {
    const found = await loadRequest(request, "view");
    if (found.status !== "completed") throw new AppError("conflict", `this request is ${found.status}: there is no signed document yet`);
    const stream = await openFinalPdf(deps, found);
    reply.header("content-type", "application/pdf");
    reply.header("content-length", String(found.final_size));
    reply.header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(finalPdfName(await openRequestTitle(vault, found)))}`);
    if (found.seal_sha256) reply.header("x-seal-sha256", found.seal_sha256);
    return reply.send(stream);
  });
}
