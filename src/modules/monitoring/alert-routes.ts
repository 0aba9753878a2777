// /v1/tenants/:tenantId/alert-channels: a company's owners and admins choose where its security alerts
// go (signed webhooks, e-mail), test a channel, and remove one. A webhook's secret is shown once.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, principalOf } from "../../http/authenticate.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { addAuditDetails } from "../audit/audit-trail.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import { createAlertChannels, maxChannelsPerTenant, type AlertChannel } from "./alert-channels.ts";
import type { AlertDispatcher } from "./alert-dispatcher.ts";
import { securityEventTypes, type SecurityEventType } from "./security-events.ts";
import { maxWebhookUrlLength } from "./webhook-target.ts";

export type MonitoringDeps = { db: Kysely<DatabaseSchema>; vault: Vault; alerts: AlertDispatcher };

type TenantParams = { tenantId: string };
type ChannelParams = { tenantId: string; channelId: string };
type CreateBody = { kind: "webhook" | "email"; url?: string; email?: string; eventTypes?: SecurityEventType[] };

const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const params = { type: "object", properties: { tenantId: id }, required: ["tenantId"] } as const;
const channelParams = { type: "object", properties: { tenantId: id, channelId: id }, required: ["tenantId", "channelId"] } as const;
const createBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    kind: { type: "string", enum: ["webhook", "email"] },
    url: { type: "string", minLength: 8, maxLength: maxWebhookUrlLength },
    email: { type: "string", minLength: 3, maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" },
    // Empty or absent: every event type.
    eventTypes: { type: "array", maxItems: securityEventTypes.length, uniqueItems: true, items: { type: "string", enum: securityEventTypes } },
  },
  required: ["kind"],
} as const;

function presentChannel(channel: AlertChannel) {
  return {
    id: channel.id,
    kind: channel.kind,
    ...(channel.kind === "webhook" ? { url: channel.target } : { email: channel.target }),
    eventTypes: channel.eventTypes,
    createdAt: channel.createdAt,
  };
}

export async function registerMonitoringRoutes(app: FastifyInstance, deps: MonitoringDeps, auth: Authenticator): Promise<void> {
  const channels = createAlertChannels(deps.db, deps.vault);
  const guarded = { preHandler: auth.requirePrincipal };
  const manage = (request: FastifyRequest<{ Params: TenantParams }>) =>
    requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "manage_settings", request.ip);

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/alert-channels", { ...guarded, schema: { params } }, async (request) => {
    const granted = await manage(request);
    const list = await channels.list(granted.tenantId);
    const last = await channels.lastDeliveries(granted.tenantId, list.map((channel) => channel.id));
    return {
      channels: list.map((channel) => ({ ...presentChannel(channel), lastDelivery: last.get(channel.id) ?? null })),
      limit: maxChannelsPerTenant,
    };
  });

  app.post<{ Params: TenantParams; Body: CreateBody }>("/v1/tenants/:tenantId/alert-channels", {
    ...guarded, schema: { params, body: createBody },
  }, async (request, reply) => {
    const granted = await manage(request);
    const { kind, url, email, eventTypes } = request.body;
    let target: string;
    if (kind === "webhook") {
      if (!url || email !== undefined) throw new AppError("validation_failed", "a webhook channel needs a url (and no email)");
      target = deps.alerts.parseWebhookUrl(url).toString();
    } else {
      if (!email || url !== undefined) throw new AppError("validation_failed", "an e-mail channel needs an email (and no url)");
      target = email.trim().toLowerCase();
    }
    const created = await channels.create({
      tenantId: granted.tenantId,
      kind,
      target,
      eventTypes: eventTypes ?? [],
      createdBy: granted.principal.kind === "user" ? granted.principal.userId : granted.principal.keyId,
    });
    addAuditDetails(request, { channelId: created.channel.id, kind });
    // The only time the signing secret is ever shown.
    return reply.code(201).send({ ...presentChannel(created.channel), ...(created.secret ? { secret: created.secret } : {}) });
  });

  app.delete<{ Params: ChannelParams }>("/v1/tenants/:tenantId/alert-channels/:channelId", { ...guarded, schema: { params: channelParams } }, async (request) => {
    const granted = await manage(request);
    await channels.remove(granted.tenantId, request.params.channelId);
    return { status: "deleted" };
  });

  app.post<{ Params: ChannelParams }>("/v1/tenants/:tenantId/alert-channels/:channelId/test", { ...guarded, schema: { params: channelParams } }, async (request) => {
    const granted = await manage(request);
    const result = await deps.alerts.sendTest(granted.tenantId, request.params.channelId);
    addAuditDetails(request, { delivered: result.delivered });
    return { delivered: result.delivered, httpStatus: result.httpStatus, error: result.error };
  });
}
