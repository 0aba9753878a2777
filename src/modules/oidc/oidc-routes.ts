// Sign-in with Google, Microsoft Entra ID or any OpenID Connect issuer: the providers on offer, the
// redirect to a provider, its callback, and a company's switch for allowing it. The two browser
// routes answer a refusal with a short HTML page when a browser asks for HTML, JSON otherwise.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, isAppError } from "../../errors/app-error.ts";
import { type Authenticator, principalOf } from "../../http/authenticate.ts";
import { deviceCookieName, readCookie, setDeviceCookie, setSessionCookie } from "../../http/cookies.ts";
import { httpStatusOf } from "../../http/error-mapping.ts";
import { addAuditDetails, setAuditSubject } from "../audit/audit-trail.ts";
import { deviceCookieValue } from "../auth/devices.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import type { OidcProviderConfig } from "./oidc-config.ts";
import { createOidcDiscovery, type OidcDiscoveryOptions } from "./oidc-discovery.ts";
import { finishOidcLogin } from "./finish-oidc-login.ts";
import { oidcAttemptMinutes } from "./oidc-login-attempts.ts";
import { startOidcLogin } from "./start-oidc-login.ts";

export const oidcBindingCookieName = "__Host-sr_oidc";

type ProviderParams = { providerId: string };
type TenantParams = { tenantId: string };

const providerParams = { type: "object", properties: { providerId: { type: "string", minLength: 1, maxLength: 32 } }, required: ["providerId"] } as const;
const tenantParams = { type: "object", properties: { tenantId: { type: "string", minLength: 1, maxLength: 64 } }, required: ["tenantId"] } as const;
const startQuery = {
  type: "object",
  additionalProperties: false,
  properties: { tenant: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$", description: "the company to sign in to (optional)" } },
} as const;
// Providers add their own parameters (session_state, scope, hd, authuser…): allowed, but bounded.
const callbackQuery = {
  type: "object",
  additionalProperties: { type: "string", maxLength: 2048 },
  maxProperties: 20,
  properties: {
    state: { type: "string", maxLength: 512 },
    code: { type: "string", maxLength: 4096 },
    iss: { type: "string", maxLength: 512 },
    error: { type: "string", maxLength: 256 },
    error_description: { type: "string", maxLength: 2048 },
  },
} as const;
const providerList = {
  200: {
    type: "object",
    properties: {
      providers: {
        type: "array",
        items: { type: "object", properties: { id: { type: "string" }, kind: { type: "string" }, startUrl: { type: "string" } } },
      },
    },
  },
} as const;
const oidcSetting = { 200: { type: "object", properties: { oidcAllowed: { type: "boolean" } } } } as const;

export async function registerOidcRoutes(
  app: FastifyInstance,
  deps: IdentityDeps,
  auth: Authenticator,
  providers: readonly OidcProviderConfig[],
  options: OidcDiscoveryOptions = {},
): Promise<void> {
  const discovery = createOidcDiscovery(providers, app.log, options);
  const providerOf = (request: FastifyRequest<{ Params: ProviderParams }>) => {
    const provider = discovery.provider(request.params.providerId);
    if (!provider) throw new AppError("not_found", "no such sign-in provider");
    return provider;
  };

  app.get("/v1/auth/oidc/providers", { schema: { response: providerList } }, async () => ({
    providers: discovery.list().map((provider) => ({ id: provider.id, kind: provider.kind, startUrl: `/v1/auth/oidc/${provider.id}/start` })),
  }));

  app.get<{ Params: ProviderParams; Querystring: { tenant?: string } }>("/v1/auth/oidc/:providerId/start", {
    schema: { params: providerParams, querystring: startQuery },
  }, async (request, reply) => refusalAsPage(request, reply, async () => {
    const started = await startOidcLogin(deps, discovery, providerOf(request), {
      tenantHint: request.query.tenant, ip: request.ip, bindingCookie: readCookie(request, oidcBindingCookieName),
    });
    appendCookie(reply, `${oidcBindingCookieName}=${started.binding}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${oidcAttemptMinutes * 60}`);
    return reply.code(302).header("location", started.authorizationUrl).send();
  }));

  app.get<{ Params: ProviderParams }>("/v1/auth/oidc/:providerId/callback", {
    schema: { params: providerParams, querystring: callbackQuery },
  }, async (request, reply) => refusalAsPage(request, reply, async () => {
    const provider = providerOf(request);
    addAuditDetails(request, { provider: provider.id, kind: provider.kind });
    const queryAt = request.url.indexOf("?");
    const finished = await finishOidcLogin(deps, discovery, provider, {
      rawQuery: queryAt < 0 ? "" : request.url.slice(queryAt + 1),
      bindingCookie: readCookie(request, oidcBindingCookieName),
    }, {
      ip: request.ip,
      userAgent: String(request.headers["user-agent"] ?? "unknown").slice(0, 512),
      deviceCookie: readCookie(request, deviceCookieName),
    }, request.log);
    setAuditSubject(request, finished.session.user_id);
    if (finished.newDevice) {
      setDeviceCookie(reply, deviceCookieValue(deps.vault, finished.deviceId));
      deps.events.emit({ type: "new_device_login", tenantId: finished.session.tenant_id, ip: request.ip, userId: finished.session.user_id, details: { deviceId: finished.deviceId, provider: provider.id } });
    }
    setSessionCookie(reply, finished.token);
    // Only ever a same-origin path: nothing from the request chooses where the browser goes next.
    return reply.code(302).header("location", "/").send();
  }));

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/oidc", {
    preHandler: auth.requirePrincipal, schema: { params: tenantParams, response: oidcSetting },
  }, async (request) => {
    const granted = await requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "view_tenant", request.ip);
    const tenant = await deps.db.selectFrom("tenants").select("oidc_allowed").where("id", "=", granted.tenantId).executeTakeFirstOrThrow();
    return { oidcAllowed: tenant.oidc_allowed === 1 };
  });

  app.put<{ Params: TenantParams; Body: { allowed: boolean } }>("/v1/tenants/:tenantId/oidc", {
    preHandler: auth.requirePrincipal,
    schema: {
      params: tenantParams,
      body: { type: "object", additionalProperties: false, properties: { allowed: { type: "boolean" } }, required: ["allowed"] },
      response: oidcSetting,
    },
  }, async (request) => {
    const granted = await requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "manage_settings", request.ip);
    addAuditDetails(request, { oidcAllowed: request.body.allowed });
    await deps.db.updateTable("tenants").set({ oidc_allowed: request.body.allowed ? 1 : 0 }).where("id", "=", granted.tenantId).execute();
    return { oidcAllowed: request.body.allowed };
  });
}

// A person following a redirect sees a page, not JSON; the status and the error code are the same.
async function refusalAsPage(request: FastifyRequest, reply: FastifyReply, handler: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await handler();
  } catch (error) {
    if (!isAppError(error) || !String(request.headers.accept ?? "").includes("text/html")) throw error;
    request.log.info({ error: error.code, status: httpStatusOf(error.code) }, "request refused");
    return reply.code(httpStatusOf(error.code)).type("text/html; charset=utf-8").send(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head><body>" +
      `<h1>Sign-in failed</h1><p>${escapeHtml(error.message)}</p><p>Error code: <code>${escapeHtml(error.code)}</code></p>` +
      "<p><a href=\"/\">Back to Strongroom</a></p></body></html>\n",
    );
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function appendCookie(reply: FastifyReply, cookie: string): void {
  const existing = reply.getHeader("set-cookie");
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header("set-cookie", [...list, cookie]);
}
