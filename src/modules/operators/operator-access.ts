// Who may use the operator API: a caller from an operator CIDR AND with an operator session (cookie
// __Host-sr_operator; writes also carry X-CSRF-Token). Bootstrap rule: until the first operator
// account is created (`strongroom operator user add`), the address filter alone admits, as before
// accounts existed; from then on a session is required for good, even if every account is disabled.
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { readCookie } from "../../http/cookies.ts";
import type { AddressFilter } from "../../http/ip-filter.ts";
import type { Vault } from "../../vault/vault.ts";
import { operatorAccountsExist } from "./operator-accounts.ts";
import type { OperatorDeps } from "./operator-deps.ts";
import type { ResolvedOperatorSession } from "./operator-sessions.ts";

export const operatorCookieName = "__Host-sr_operator";

const signedInOperators = new WeakMap<FastifyRequest, ResolvedOperatorSession>();
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

export function operatorCsrfToken(vault: Vault, sessionId: string): string {
  return vault.mac("token", `operator-csrf:${sessionId}`);
}

// No Max-Age: the cookie ends with the browser; the server ends the session sooner (30 min idle, 4 h).
export function setOperatorCookie(reply: FastifyReply, token: string): void {
  appendCookie(reply, `${operatorCookieName}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict`);
}

export function clearOperatorCookie(reply: FastifyReply): void {
  appendCookie(reply, `${operatorCookieName}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`);
}

function appendCookie(reply: FastifyReply, cookie: string): void {
  const existing = reply.getHeader("set-cookie");
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header("set-cookie", [...list, cookie]);
}

export function createOperatorAccess(deps: OperatorDeps, filter: AddressFilter) {
  // Once true, true for good: accounts are disabled, never deleted.
  let accountsExist = false;

  async function requireOperatorAddress(request: FastifyRequest): Promise<void> {
    if (!filter.allows(request.ip)) throw new AppError("ip_not_allowed", "the operator API does not answer from this address");
  }

  async function requireOperatorSession(request: FastifyRequest): Promise<void> {
    await requireOperatorAddress(request);
    const token = readCookie(request, operatorCookieName);
    if (!token) throw new AppError("session_required", "operator sign-in required: POST /v1/sys/operator/login");
    const resolved = await deps.sessions.resolve(token);
    if (!safeMethods.has(request.method)) {
      const given = request.headers["x-csrf-token"];
      if (typeof given !== "string" || !deps.vault.macMatches("token", `operator-csrf:${resolved.session.id}`, given)) {
        throw new AppError("csrf_failed", "missing or wrong X-CSRF-Token header for an operator write");
      }
    }
    signedInOperators.set(request, resolved);
  }

  return {
    requireOperatorAddress,
    requireOperatorSession,
    // seal, rotate: an operator session, or the address alone while no operator account exists.
    async requireOperator(request: FastifyRequest): Promise<void> {
      await requireOperatorAddress(request);
      accountsExist ||= await operatorAccountsExist(deps.db);
      if (!accountsExist) {
        request.log.warn({ event: "operator_bootstrap_access" }, "no operator account exists yet: the operator API admits by address alone");
        return;
      }
      await requireOperatorSession(request);
    },
  };
}

export type OperatorAccess = ReturnType<typeof createOperatorAccess>;

export function operatorOf(request: FastifyRequest): ResolvedOperatorSession {
  const resolved = signedInOperators.get(request);
  if (!resolved) throw new AppError("session_required", "operator sign-in required");
  return resolved;
}

// The signed-in operator, or undefined when the request was admitted under the bootstrap rule.
export function optionalOperatorOf(request: FastifyRequest): ResolvedOperatorSession | undefined {
  return signedInOperators.get(request);
}
