// Who is calling: a signed-in user (session cookie) or an API key (HTTP Basic). Cookie-authenticated
// writes must carry the session's CSRF token; API-key calls carry no cookie and need none.
import type { FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { AppError } from "../errors/app-error.ts";
import { authenticateApiKey, isBasicAuthorization, type ApiKeyPrincipal } from "../modules/api-keys/api-keys.ts";
import type { SessionRow, Sessions } from "../modules/auth/sessions.ts";
import type { DatabaseSchema } from "../store/schema.ts";
import type { Vault } from "../vault/vault.ts";
import { readCookie, sessionCookieName } from "./cookies.ts";

export type UserPrincipal = { kind: "user"; userId: string; session: SessionRow };
export type Principal = UserPrincipal | ApiKeyPrincipal;

const principals = new WeakMap<FastifyRequest, Principal>();
// What resolving the caller gave, once per request: a principal, nobody, or the reason it failed.
const resolutions = new WeakMap<FastifyRequest, Promise<Principal | undefined>>();
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

export function csrfTokenFor(vault: Vault, sessionId: string): string {
  return vault.mac("token", `csrf:${sessionId}`);
}

export function createAuthenticator(deps: { db: Kysely<DatabaseSchema>; vault: Vault; sessions: Sessions }) {
  async function resolve(request: FastifyRequest): Promise<Principal | undefined> {
    const authorization = request.headers.authorization;
    if (isBasicAuthorization(authorization)) return authenticateApiKey(deps.db, deps.vault, authorization, request.ip, request.raw.socket);
    const token = readCookie(request, sessionCookieName);
    if (!token) return undefined;
    const session = await deps.sessions.resolve(token);
    if (!safeMethods.has(request.method)) {
      const given = request.headers["x-csrf-token"];
      if (typeof given !== "string" || !deps.vault.macMatches("token", `csrf:${session.id}`, given)) {
        throw new AppError("csrf_failed", "missing or wrong X-CSRF-Token header for a signed-in write");
      }
    }
    return { kind: "user", userId: session.user_id, session };
  }

  function resolveOnce(request: FastifyRequest): Promise<Principal | undefined> {
    let resolution = resolutions.get(request);
    if (!resolution) {
      resolution = resolve(request);
      resolution.catch(() => undefined);
      resolutions.set(request, resolution);
    }
    return resolution;
  }

  return {
    // Global hook: who is calling, if anyone can be told (for the audit trail); never refuses.
    async identify(request: FastifyRequest): Promise<Principal | undefined> {
      return resolveOnce(request).catch(() => undefined);
    },
    // preHandler: any principal.
    async requirePrincipal(request: FastifyRequest): Promise<void> {
      const principal = await resolveOnce(request);
      if (!principal) throw new AppError("session_required", "sign in or send an API key");
      principals.set(request, principal);
    },
    // preHandler: a signed-in person (account pages are not for API keys).
    async requireUser(request: FastifyRequest): Promise<void> {
      const principal = await resolveOnce(request);
      if (!principal || principal.kind !== "user") throw new AppError("session_required", "sign in first");
      principals.set(request, principal);
    },
    // preHandler: a session if there is one (e.g. accepting an invitation while signed in).
    async optionalUser(request: FastifyRequest): Promise<void> {
      const principal = await resolveOnce(request).catch(() => undefined);
      if (principal?.kind === "user") principals.set(request, principal);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new AppError("session_required", "sign in first");
  return principal;
}

export function optionalPrincipalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request);
}

export function userOf(request: FastifyRequest): UserPrincipal {
  const principal = principalOf(request);
  if (principal.kind !== "user") throw new AppError("session_required", "sign in first");
  return principal;
}
