// Second factors over HTTP: a signed-in user's TOTP, recovery codes and passkeys (/v1/account/…), the
// second step of a sign-in by TOTP, recovery code, passkey or a requested e-mailed/SMS code
// (/v1/auth/login/…), and a company's rule that its admins use one (/v1/tenants/:tenantId/security).
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, csrfTokenFor, principalOf, userOf } from "../../http/authenticate.ts";
import { setDeviceCookie, setSessionCookie } from "../../http/cookies.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import { deviceCookieValue } from "../auth/devices.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import type { VerifiedSignIn } from "../auth/verify-sign-in-code.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import { isStrongSecondFactor, setRequireAdminMfa } from "./admin-mfa-rule.ts";
import { confirmTotpEnrolment, disableTotp, startTotpEnrolment } from "./enrol-totp.ts";
import { deletePasskey, listPasskeys } from "./passkeys.ts";
import { countUnusedRecoveryCodes } from "./recovery-codes.ts";
import { requestSignInCode } from "./request-sign-in-code.ts";
import { signInWithRecoveryCode, signInWithTotp } from "./sign-in-with-totp.ts";

const object = (properties: Record<string, unknown>, required: string[]) => ({ type: "object", additionalProperties: false, properties, required }) as const;
const challengeToken = { type: "string", minLength: 20, maxLength: 200 } as const;
const totpCode = { type: "string", minLength: 6, maxLength: 12 } as const;
const recoveryCode = { type: "string", minLength: 20, maxLength: 64 } as const;
const password = { type: "string", minLength: 1, maxLength: 1024 } as const;
// WebAuthn allows credential ids up to 1023 bytes (1364 base64url characters).
const base64url = (maxLength: number) => ({ type: "string", minLength: 1, maxLength, pattern: "^[A-Za-z0-9_-]*$" }) as const;
const credentialId = base64url(1400);
const extensionResults = { type: "object", maxProperties: 16 } as const;
const attachment = { type: "string", enum: ["platform", "cross-platform"] } as const;

const registrationResponse = object({
  id: credentialId,
  rawId: credentialId,
  type: { type: "string", enum: ["public-key"] },
  authenticatorAttachment: attachment,
  clientExtensionResults: extensionResults,
  response: object({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(16_384),
    authenticatorData: base64url(8192),
    transports: { type: "array", maxItems: 8, items: { type: "string", maxLength: 32 } },
    publicKeyAlgorithm: { type: "integer" },
    publicKey: base64url(4096),
  }, ["clientDataJSON", "attestationObject"]),
}, ["id", "rawId", "type", "response"]);

const authenticationResponse = object({
  id: credentialId,
  rawId: credentialId,
  type: { type: "string", enum: ["public-key"] },
  authenticatorAttachment: attachment,
  clientExtensionResults: extensionResults,
  response: object({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(8192),
    signature: base64url(2048),
    userHandle: base64url(256),
  }, ["clientDataJSON", "authenticatorData", "signature"]),
}, ["id", "rawId", "type", "response"]);

const signedInAnswer = object({
  status: { type: "string", enum: ["signed_in"] }, csrfToken: { type: "string" }, sessionId: { type: "string" }, secondFactor: { type: "string" },
}, ["status", "csrfToken", "sessionId", "secondFactor"]);
const passkeyView = object({
  id: { type: "string" }, createdAt: { type: "string" }, lastUsedAt: { type: ["string", "null"] }, transports: { type: "array", items: { type: "string" } },
}, ["id", "createdAt", "lastUsedAt", "transports"]);
// Options go to navigator.credentials.create/get as they are; their shape is WebAuthn's.
const webauthnOptions = { type: "object", additionalProperties: true, properties: { challenge: { type: "string" }, rpId: { type: "string" } } } as const;
const tenantParams = { type: "object", properties: { tenantId: { type: "string", minLength: 1, maxLength: 64 } }, required: ["tenantId"] } as const;
const securitySettings = object({ requireAdminMfa: { type: "boolean" } }, ["requireAdminMfa"]);

type LoginBody = { challengeToken: string; code: string };

export async function registerSecondFactorRoutes(app: FastifyInstance, deps: IdentityDeps, auth: Authenticator): Promise<void> {
  const client = (request: FastifyRequest) => ({ ip: request.ip, userAgent: String(request.headers["user-agent"] ?? "unknown").slice(0, 512) });
  const signedIn = (reply: FastifyReply, verified: VerifiedSignIn) => {
    setDeviceCookie(reply, deviceCookieValue(deps.vault, verified.deviceId));
    setSessionCookie(reply, verified.token);
    return { status: "signed_in", csrfToken: csrfTokenFor(deps.vault, verified.session.id), sessionId: verified.session.id, secondFactor: verified.session.second_factor! };
  };
  const forUser = { preHandler: auth.requireUser };

  // --- The signed-in user's own second factors ---

  app.get("/v1/account/second-factors", {
    ...forUser,
    schema: {
      response: {
        200: object({
          totp: object({ enabled: { type: "boolean" }, enabledAt: { type: ["string", "null"] } }, ["enabled", "enabledAt"]),
          recoveryCodesLeft: { type: "integer" },
          passkeys: { type: "array", items: passkeyView },
          currentSessionSecondFactor: { type: ["string", "null"] },
        }, ["totp", "recoveryCodesLeft", "passkeys", "currentSessionSecondFactor"]),
      },
    },
  }, async (request) => {
    const { session } = userOf(request);
    const user = await createUserRepository(deps.db).findById(session.user_id);
    if (!user) throw new AppError("session_required", "sign in first");
    return {
      totp: { enabled: Boolean(user.totp_enabled_at), enabledAt: user.totp_enabled_at },
      recoveryCodesLeft: user.totp_enabled_at ? await countUnusedRecoveryCodes(deps, user.id) : 0,
      passkeys: await listPasskeys(deps, user.id),
      currentSessionSecondFactor: session.second_factor,
    };
  });

  app.post("/v1/account/totp", {
    ...forUser,
    schema: { response: { 201: object({ secret: { type: "string" }, otpauthUri: { type: "string" } }, ["secret", "otpauthUri"]) } },
  }, async (request, reply) => {
    // The secret is shown this once, for the QR code or to be typed in; it is kept only sealed.
    return reply.code(201).header("cache-control", "no-store").send(await startTotpEnrolment(deps, userOf(request).userId));
  });

  app.post<{ Body: { code: string } }>("/v1/account/totp/confirm", {
    ...forUser,
    schema: {
      body: object({ code: totpCode }, ["code"]),
      response: { 200: object({ status: { type: "string", enum: ["enabled"] }, recoveryCodes: { type: "array", items: { type: "string" } } }, ["status", "recoveryCodes"]) },
    },
  }, async (request, reply) => {
    const { recoveryCodes } = await confirmTotpEnrolment(deps, userOf(request).userId, request.body.code.trim());
    return reply.header("cache-control", "no-store").send({ status: "enabled", recoveryCodes });
  });

  app.post<{ Body: { code?: string; password?: string } }>("/v1/account/totp/disable", {
    ...forUser,
    schema: {
      body: { ...object({ code: totpCode, password }, []), oneOf: [{ required: ["code"] }, { required: ["password"] }] },
      response: { 200: object({ status: { type: "string", enum: ["disabled"] } }, ["status"]) },
    },
  }, async (request) => {
    await disableTotp(deps, userOf(request).userId, { code: request.body.code?.trim(), password: request.body.password });
    return { status: "disabled" };
  });

  app.post("/v1/account/passkeys/registration-options", {
    ...forUser, schema: { response: { 200: webauthnOptions } },
  }, async (request) => (await passkeyRegistration()).passkeyRegistrationOptions(deps, userOf(request).session));

  app.post<{ Body: { response: RegistrationResponseJSON } }>("/v1/account/passkeys", {
    ...forUser, schema: { body: object({ response: registrationResponse }, ["response"]), response: { 201: passkeyView } },
  }, async (request, reply) => {
    const passkey = await (await passkeyRegistration()).registerPasskey(deps, userOf(request).session, withExtensionResults(request.body.response));
    return reply.code(201).send(passkey);
  });

  app.get("/v1/account/passkeys", {
    ...forUser, schema: { response: { 200: object({ passkeys: { type: "array", items: passkeyView } }, ["passkeys"]) } },
  }, async (request) => ({ passkeys: await listPasskeys(deps, userOf(request).userId) }));

  app.delete<{ Params: { passkeyId: string } }>("/v1/account/passkeys/:passkeyId", {
    ...forUser,
    schema: {
      params: { type: "object", properties: { passkeyId: { type: "string", minLength: 1, maxLength: 64 } }, required: ["passkeyId"] },
      response: { 200: object({ status: { type: "string", enum: ["deleted"] } }, ["status"]) },
    },
  }, async (request) => {
    await deletePasskey(deps, userOf(request).userId, request.params.passkeyId);
    return { status: "deleted" };
  });

  // --- The second step of a sign-in (after POST /v1/auth/login answered second_factor_required) ---

  app.post<{ Body: LoginBody }>("/v1/auth/login/totp", {
    schema: { body: object({ challengeToken, code: totpCode }, ["challengeToken", "code"]), response: { 200: signedInAnswer } },
  }, async (request, reply) => signedIn(reply, await signInWithTotp(deps, request.body.challengeToken, request.body.code.trim(), client(request))));

  app.post<{ Body: LoginBody }>("/v1/auth/login/recovery-code", {
    schema: { body: object({ challengeToken, code: recoveryCode }, ["challengeToken", "code"]), response: { 200: signedInAnswer } },
  }, async (request, reply) => signedIn(reply, await signInWithRecoveryCode(deps, request.body.challengeToken, request.body.code, client(request))));

  app.post<{ Body: { challengeToken: string } }>("/v1/auth/login/passkey/options", {
    schema: { body: object({ challengeToken }, ["challengeToken"]), response: { 200: webauthnOptions } },
  }, async (request) => (await passkeySignIn()).passkeySignInOptions(deps, request.body.challengeToken));

  app.post<{ Body: { challengeToken: string; response: AuthenticationResponseJSON } }>("/v1/auth/login/passkey/verify", {
    schema: { body: object({ challengeToken, response: authenticationResponse }, ["challengeToken", "response"]), response: { 200: signedInAnswer } },
  }, async (request, reply) => {
    return signedIn(reply, await (await passkeySignIn()).signInWithPasskey(deps, request.body.challengeToken, withExtensionResults(request.body.response), client(request)));
  });

  app.post<{ Body: { challengeToken: string } }>("/v1/auth/login/send-code", {
    schema: {
      body: object({ challengeToken }, ["challengeToken"]),
      response: { 202: object({ status: { type: "string", enum: ["code_sent"] }, channel: { type: "string", enum: ["email", "sms"] } }, ["status", "channel"]) },
    },
  }, async (request, reply) => {
    const { channel } = await requestSignInCode(deps, request.body.challengeToken);
    return reply.code(202).send({ status: "code_sent", channel });
  });

  // --- A company's rule: owners and admins sign in with TOTP or a passkey for admin actions ---

  app.get<{ Params: { tenantId: string } }>("/v1/tenants/:tenantId/security", {
    preHandler: auth.requirePrincipal, schema: { params: tenantParams, response: { 200: securitySettings } },
  }, async (request) => {
    const granted = await requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "view_tenant", request.ip);
    const tenant = await deps.db.selectFrom("tenants").select("require_admin_mfa").where("id", "=", granted.tenantId).executeTakeFirstOrThrow();
    return { requireAdminMfa: Boolean(tenant.require_admin_mfa) };
  });

  app.put<{ Params: { tenantId: string }; Body: { requireAdminMfa: boolean } }>("/v1/tenants/:tenantId/security", {
    preHandler: auth.requirePrincipal, schema: { params: tenantParams, body: securitySettings, response: { 200: securitySettings } },
  }, async (request) => {
    const granted = await requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "manage_settings", request.ip);
    // A person decides this, not an API key: a key must not be able to switch the rule off.
    if (granted.principal.kind !== "user") throw new AppError("forbidden", "this setting needs a signed-in owner or admin, not an API key");
    // Refuse to switch it on from a session that the rule would shut out at once.
    if (request.body.requireAdminMfa && !isStrongSecondFactor(granted.principal.session.second_factor)) {
      throw new AppError("conflict", "sign in with TOTP or a passkey first: this session would be refused admin actions");
    }
    await setRequireAdminMfa(deps.db, granted.tenantId, request.body.requireAdminMfa);
    return { requireAdminMfa: request.body.requireAdminMfa };
  });
}

// Browsers always send clientExtensionResults; other clients may leave the empty object out.
function withExtensionResults<T extends { clientExtensionResults?: object }>(response: T): T & { clientExtensionResults: object } {
  return { ...response, clientExtensionResults: response.clientExtensionResults ?? {} };
}

// @simplewebauthn/server and its ASN.1 libraries (~300 modules) load with the first passkey request.
const passkeyRegistration = () => import("./register-passkey.ts");
const passkeySignIn = () => import("./sign-in-with-passkey.ts");
