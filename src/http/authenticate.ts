// Who is calling: a signed-in user (session cookie) or an API key (HTTP Basic). Cookie-authenticated
// writes must carry the session's CSRF token; API-key calls carry no cookie and need none.
import type { FastifyReply, FastifyRequest } from "fastify";
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
// What resolving the caller gave, once per request: a principal or nobody, the reason it failed, or the
// promise of one of those. Most API-key requests resolve without a promise (see authenticateApiKey), and
// the preHandlers below are callback hooks so that such a request waits on no promise at all.
type Resolution = { settled: true; principal: Principal | undefined } | { settled: true; error: unknown } | { settled: false; pending: Promise<Principal | undefined> };
const resolutions = new WeakMap<FastifyRequest, Resolution>();
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

type HookDone = (error?: Error) => void;

export function csrfTokenFor(vault: Vault, sessionId: string): string {
  return vault.mac("token", `csrf:${sessionId}`);
}

export function createAuthenticator(deps: { db: Kysely<DatabaseSchema>; vault: Vault; sessions: Sessions }) {
  function resolve(request: FastifyRequest): Principal | undefined | Promise<Principal | undefined> {
    const authorization = request.headers.authorization;
    if (isBasicAuthorization(authorization)) return authenticateApiKey(deps.db, deps.vault, authorization, request.ip, request.raw.socket);
    const token = readCookie(request, sessionCookieName);
    if (!token) return undefined;
    return resolveSession(request, token);
  }

  async function resolveSession(request: FastifyRequest, token: string): Promise<Principal> {
    const session = await deps.sessions.resolve(token);
    if (!safeMethods.has(request.method)) {
      const given = request.headers["x-csrf-token"];
      if (typeof given !== "string" || !deps.vault.macMatches("token", `csrf:${session.id}`, given)) {
        throw new AppError("csrf_failed", "missing or wrong X-CSRF-Token header for a signed-in write");
      }
    }
    return { kind: "user", userId: session.user_id, session };
  }

  function resolveOnce(request: FastifyRequest): Resolution {
    let resolution = resolutions.get(request);
    if (!resolution) {
      try {
        const result = resolve(request);
        if (result instanceof Promise) {
          result.catch(() => undefined);
          resolution = { settled: false, pending: result };
        } else {
          resolution = { settled: true, principal: result };
        }
      } catch (error) {
        resolution = { settled: true, error };
      }
      resolutions.set(request, resolution);
    }
    return resolution;
  }

  // Runs `accept` on the caller once known and ends the hook; anything thrown refuses the request.
  function whenResolved(request: FastifyRequest, done: HookDone, accept: (principal: Principal | undefined) => void): void {
    const resolution = resolveOnce(request);
    const finish = (principal: Principal | undefined) => {
      try {
        accept(principal);
      } catch (error) {
        done(error as Error);
        return;
      }
      done();
    };
    if (!resolution.settled) resolution.pending.then(finish, done);
    else if ("error" in resolution) done(resolution.error as Error);
    else finish(resolution.principal);
  }

  return {
    // Global hook: who is calling, if anyone can be told (for the audit trail); never refuses.
    async identify(request: FastifyRequest): Promise<Principal | undefined> {
      const resolution = resolveOnce(request);
      if (!resolution.settled) return resolution.pending.catch(() => undefined);
      return "error" in resolution ? undefined : resolution.principal;
    },
    // preHandler: any principal.
    requirePrincipal(request: FastifyRequest, _reply: FastifyReply, done: HookDone): void {
      whenResolved(request, done, (principal) => {
        if (!principal) throw new AppError("session_required", "sign in or send an API key");
        principals.set(request, principal);
      });
    },
    // preHandler: a signed-in person (account pages are not for API keys).
    requireUser(request: FastifyRequest, _reply: FastifyReply, done: HookDone): void {
      whenResolved(request, done, (principal) => {
        if (!principal || principal.kind !== "user") throw new AppError("session_required", "sign in first");
        principals.set(request, principal);
      });
    },
    // preHandler: a session if there is one (e.g. accepting an invitation while signed in).
    optionalUser(request: FastifyRequest, _reply: FastifyReply, done: HookDone): void {
      const resolution = resolveOnce(request);
      const keep = (principal: Principal | undefined) => {
        if (principal?.kind === "user") principals.set(request, principal);
        done();
      };
      if (!resolution.settled) resolution.pending.then(keep, () => done());
      else keep("error" in resolution ? undefined : resolution.principal);
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
