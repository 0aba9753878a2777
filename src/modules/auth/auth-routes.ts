// /v1/auth: sign-up, e-mail verification, sign-in with the new-device code, sign-out, password reset,
// the current session and the user's own sessions. Thin: validate, call one command, present.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, csrfTokenFor, userOf } from "../../http/authenticate.ts";
import { clearSessionCookie, deviceCookieName, readCookie, setDeviceCookie, setSessionCookie } from "../../http/cookies.ts";
import { signUp } from "../accounts/sign-up.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import { completePhoneVerification, removePhone, startPhoneVerification, verifiedPhoneOf } from "../accounts/verify-phone.ts";
import { openUserField } from "../accounts/user-fields.ts";
import { createTenantRepository } from "../tenants/tenant-repository.ts";
import { deviceCookieValue } from "./devices.ts";
import type { IdentityDeps } from "./identity-deps.ts";
import { logIn } from "./log-in.ts";
import { completePasswordReset, requestPasswordReset, verifyEmail } from "./reset-password.ts";
import type { SessionRow } from "./sessions.ts";
import { verifySignInCode } from "./verify-sign-in-code.ts";

const email = { type: "string", minLength: 3, maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" } as const;
const password = { type: "string", minLength: 1, maxLength: 1024 } as const;
const token = { type: "string", minLength: 20, maxLength: 200 } as const;
const body = (properties: Record<string, unknown>, required: string[]) =>
  ({ body: { type: "object", additionalProperties: false, properties, required } }) as const;

export async function registerAuthRoutes(app: FastifyInstance, deps: IdentityDeps, auth: Authenticator): Promise<void> {
  const client = (request: FastifyRequest) => ({
    ip: request.ip,
    userAgent: String(request.headers["user-agent"] ?? "unknown").slice(0, 512),
    deviceCookie: readCookie(request, deviceCookieName),
  });

  const signedIn = (reply: FastifyReply, sessionToken: string, session: SessionRow) => {
    setSessionCookie(reply, sessionToken);
    return { status: "signed_in", csrfToken: csrfTokenFor(deps.vault, session.id), sessionId: session.id };
  };

  app.post<{ Body: { companyName: string; name: string; email: string; password: string } }>("/v1/auth/signup", {
    schema: body({ companyName: { type: "string", minLength: 1, maxLength: 200 }, name: { type: "string", minLength: 1, maxLength: 200 }, email, password }, ["companyName", "name", "email", "password"]),
  }, async (request, reply) => {
    await signUp(deps, request.body);
    return reply.code(202).send({ status: "check_email", message: "If the address can be used, a confirmation link is on its way." });
  });

  app.post<{ Body: { token: string } }>("/v1/auth/verify-email", { schema: body({ token }, ["token"]) }, async (request) => {
    await verifyEmail(deps, request.body.token);
    return { status: "verified" };
  });

  app.post<{ Body: { email: string; password: string } }>("/v1/auth/login", { schema: body({ email, password }, ["email", "password"]) }, async (request, reply) => {
    const result = await logIn(deps, request.body.email, request.body.password, client(request));
    if (result.kind !== "session") {
      const { kind, ...challenge } = result;
      return reply.code(202).send({ status: kind, ...challenge });
    }
    return signedIn(reply, result.token, result.session);
  });

  app.post<{ Body: { challengeToken: string; code: string } }>("/v1/auth/login/code", {
    schema: body({ challengeToken: token, code: { type: "string", minLength: 1, maxLength: 12 } }, ["challengeToken", "code"]),
  }, async (request, reply) => {
    const verified = await verifySignInCode(deps, request.body.challengeToken, request.body.code.trim(), client(request));
    setDeviceCookie(reply, deviceCookieValue(deps.vault, verified.deviceId));
    deps.events.emit({ type: "new_device_login", tenantId: null, ip: request.ip, userId: verified.session.user_id, details: { deviceId: verified.deviceId } });
    return signedIn(reply, verified.token, verified.session);
  });

  app.post("/v1/auth/logout", { preHandler: auth.requireUser }, async (request, reply) => {
    const { session } = userOf(request);
    await deps.sessions.revoke(session.user_id, session.id);
    clearSessionCookie(reply);
    return { status: "signed_out" };
  });

  app.get("/v1/auth/session", { preHandler: auth.requireUser }, async (request) => {
    const { session } = userOf(request);
    const user = await createUserRepository(deps.db).findById(session.user_id);
    if (!user) throw new AppError("session_required", "sign in first");
    const memberships = await createTenantRepository(deps.db).membershipsOfUser(user.id);
    const tenants = await Promise.all(memberships.map(async (membership) => {
      const tenant = await deps.db.selectFrom("tenants").select("name_ciphertext").where("id", "=", membership.tenant_id).executeTakeFirstOrThrow();
      const name = await deps.vault.data.openString(
        { tenantId: membership.tenant_id, objectType: "tenant", objectId: membership.tenant_id, objectVersion: 1, field: "name" },
        tenant.name_ciphertext,
      );
      return { id: membership.tenant_id, name, role: membership.role, status: membership.status };
    }));
    return {
      user: {
        id: user.id,
        email: await openUserField(deps.vault, user.id, "email", user.email_ciphertext),
        name: await openUserField(deps.vault, user.id, "name", user.name_ciphertext),
      },
      tenants,
      activeTenantId: session.tenant_id,
      csrfToken: csrfTokenFor(deps.vault, session.id),
      sessionId: session.id,
    };
  });

  app.post<{ Body: { tenantId: string } }>("/v1/auth/switch-tenant", {
    preHandler: auth.requireUser,
    schema: body({ tenantId: { type: "string", minLength: 1, maxLength: 64 } }, ["tenantId"]),
  }, async (request) => {
    const { session } = userOf(request);
    const membership = await createTenantRepository(deps.db).membership(request.body.tenantId, session.user_id);
    if (!membership) throw new AppError("not_found", "no such company");
    if (membership.status !== "active") throw new AppError("account_suspended", "your membership of this company is suspended");
    if (session.second_factor === "oidc") {
      const tenant = await deps.db.selectFrom("tenants").select("oidc_allowed").where("id", "=", request.body.tenantId).executeTakeFirst();
      if (!tenant?.oidc_allowed) throw new AppError("oidc_not_allowed", "this company does not allow sign-in with an outside provider: sign in with your password");
    }
    await deps.sessions.setTenant(session.id, request.body.tenantId);
    return { activeTenantId: request.body.tenantId };
  });

  app.get("/v1/auth/sessions", { preHandler: auth.requireUser }, async (request) => {
    const { session: current } = userOf(request);
    const sessions = await deps.sessions.listActive(current.user_id);
    return {
      sessions: sessions.map((session) => ({
        id: session.id, current: session.id === current.id, ip: session.ip, userAgent: session.user_agent,
        createdAt: session.created_at, lastSeenAt: session.last_seen_at,
      })),
    };
  });

  app.delete<{ Params: { sessionId: string } }>("/v1/auth/sessions/:sessionId", { preHandler: auth.requireUser }, async (request) => {
    const { session } = userOf(request);
    if (!(await deps.sessions.revoke(session.user_id, request.params.sessionId))) throw new AppError("not_found", "no such session");
    return { status: "revoked" };
  });

  app.get("/v1/auth/phone", { preHandler: auth.requireUser }, async (request) => ({ phone: await verifiedPhoneOf(deps, userOf(request).userId) }));

  app.post<{ Body: { phone: string } }>("/v1/auth/phone", {
    preHandler: auth.requireUser, schema: body({ phone: { type: "string", minLength: 8, maxLength: 32 } }, ["phone"]),
  }, async (request, reply) => {
    await startPhoneVerification(deps, userOf(request).userId, request.body.phone);
    return reply.code(202).send({ status: "code_sent" });
  });

  app.post<{ Body: { code: string } }>("/v1/auth/phone/verify", {
    preHandler: auth.requireUser, schema: body({ code: { type: "string", minLength: 1, maxLength: 12 } }, ["code"]),
  }, async (request) => {
    await completePhoneVerification(deps, userOf(request).userId, request.body.code.trim());
    return { status: "verified" };
  });

  app.delete("/v1/auth/phone", { preHandler: auth.requireUser }, async (request) => {
    await removePhone(deps, userOf(request).userId);
    return { status: "removed" };
  });

  app.post<{ Body: { email: string } }>("/v1/auth/password-reset", { schema: body({ email }, ["email"]) }, async (request, reply) => {
    await requestPasswordReset(deps, request.body.email);
    return reply.code(202).send({ status: "check_email", message: "If the address has an account, a reset link is on its way." });
  });

  app.post<{ Body: { token: string; password: string } }>("/v1/auth/password-reset/complete", { schema: body({ token, password }, ["token", "password"]) }, async (request, reply) => {
    await completePasswordReset(deps, request.body.token, request.body.password);
    clearSessionCookie(reply);
    return { status: "password_changed" };
  });
}
