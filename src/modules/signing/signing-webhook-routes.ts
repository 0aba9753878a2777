// /v1/tenants/:tenantId/signing-webhooks: a company's admins add (the secret is shown once), list
// (with recent deliveries) and remove the webhooks that receive its signature request events.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Authenticator, principalOf } from "../../http/authenticate.ts";
import { addAuditDetails } from "../audit/audit-trail.ts";
import { maxWebhookUrlLength } from "../monitoring/webhook-target.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import { actorIdOf } from "./signing-policy.ts";
import { listSigningWebhooks, registerSigningWebhook, removeSigningWebhook, type WebhookDeps } from "./signing-webhooks.ts";

type TenantParams = { tenantId: string };
type HookParams = TenantParams & { webhookId: string };
const id = { type: "string", minLength: 1, maxLength: 64 } as const;

export async function registerSigningWebhookRoutes(app: FastifyInstance, deps: WebhookDeps, auth: Authenticator): Promise<void> {
  const guarded = { preHandler: auth.requirePrincipal };
  const gate = (request: FastifyRequest<{ Params: TenantParams }>) => requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "manage_settings", request.ip);

  app.post<{ Params: TenantParams; Body: { url: string } }>("/v1/tenants/:tenantId/signing-webhooks", {
    ...guarded,
    schema: {
      params: { type: "object", properties: { tenantId: id }, required: ["tenantId"] },
      body: { type: "object", additionalProperties: false, required: ["url"], properties: { url: { type: "string", minLength: 1, maxLength: maxWebhookUrlLength } } },
    },
  }, async (request, reply) => {
    const access = await gate(request);
    const created = await registerSigningWebhook(deps, { tenantId: access.tenantId, createdBy: actorIdOf(access), url: request.body.url });
    addAuditDetails(request, { webhookId: created.id });
    return reply.code(201).send(created);
  });

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/signing-webhooks", {
    ...guarded, schema: { params: { type: "object", properties: { tenantId: id }, required: ["tenantId"] } },
  }, async (request) => {
    const access = await gate(request);
    return { webhooks: await listSigningWebhooks(deps, access.tenantId) };
  });

  app.delete<{ Params: HookParams }>("/v1/tenants/:tenantId/signing-webhooks/:webhookId", {
    ...guarded, schema: { params: { type: "object", properties: { tenantId: id, webhookId: id }, required: ["tenantId", "webhookId"] } },
  }, async (request) => {
    const access = await gate(request);
    await removeSigningWebhook(deps, access.tenantId, request.params.webhookId);
    addAuditDetails(request, { webhookId: request.params.webhookId });
    return { status: "removed" };
  });
}
