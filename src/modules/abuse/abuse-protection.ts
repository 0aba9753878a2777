// Automatic blocking wired into the server: every request is checked against bans and its route
// class's limits (per address, and per signed-in user or API key) before any other work; password
// sign-ins pass the account throttle after the body is read; answers are read back to count failures,
// strikes and accepted passwords. A store that cannot answer refuses the request (fail closed).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { Principal } from "../../http/authenticate.ts";
import { readCookie, sessionCookieName } from "../../http/cookies.ts";
import type { Vault } from "../../vault/vault.ts";
import { emailIndexOf } from "../accounts/user-fields.ts";
import type { AbuseGuard, Refusal, StrikeReason } from "./abuse-guard.ts";
import { addressKeyOf } from "./client-address.ts";
import { carriesApiKey, classifyRoute, type RouteClass } from "./route-classes.ts";

export type AbuseProtectionDeps = {
  guard: AbuseGuard;
  /** For the blind index of the e-mail a sign-in names (the e-mail itself is never kept). */
  vault: Vault;
  /** Who is calling (authenticator.identify): enables the per-user and per-API-key limits. */
  identify?: (request: FastifyRequest) => Promise<Principal | undefined>;
  /** Whether the request carries a recognised device cookie for the account it signs in to. */
  recogniseDevice?: (request: FastifyRequest, account: string) => Promise<boolean>;
};

type RequestState = {
  address: string;
  routeClass: RouteClass | "unlimited";
  login?: { account: string; attempt: number };
  errorCode?: string;
  refused?: boolean;
};

// Answers that mean someone tried a secret and got it wrong.
const strikeByErrorCode: Record<string, StrikeReason> = {
  invalid_credentials: "failed_login",
  code_invalid: "failed_code",
  code_locked: "failed_code",
  code_expired: "failed_code",
  link_invalid: "failed_code",
  passkey_invalid: "failed_code",
  share_malformed: "failed_code",
  pin_invalid: "failed_code",
  pin_locked: "failed_code",
  api_key_invalid: "invalid_api_key",
};
// A password sign-in is "accepted" when the password was right, whatever came next.
const passwordWasRight = new Set(["email_unverified", "account_suspended", "second_factor_required"]);
// The operator must be able to lift a ban on their own address.
const banRoutes = new Set(["/v1/sys/bans", "/v1/sys/bans/:ip"]);

const messages: Record<Refusal["reason"], string> = {
  rate_limited: "too many requests",
  banned: "this address is blocked for a while after repeated failures",
  login_delay: "wrong password: wait before trying again",
  account_throttled: "too many sign-in attempts for this account",
};

export function registerAbuseProtection(app: FastifyInstance, deps: AbuseProtectionDeps): void {
  const { guard } = deps;
  const limits = guard.config.limits;
  const states = new WeakMap<FastifyRequest, RequestState>();

  async function refuse(reply: FastifyReply, state: RequestState, refusal: Refusal): Promise<never> {
    state.refused = true;
    if (refusal.reason !== "banned") await guard.strike(state.address, "rate_limited");
    const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
    reply.header("retry-after", String(seconds));
    throw new AppError("too_many_requests", `${messages[refusal.reason]}: try again in ${seconds} s`, { retryAfterSeconds: seconds });
  }

  function failClosed(request: FastifyRequest, error: unknown): never {
    if (isAppError(error)) throw error;
    request.log.error({ err: error, event: "rate_limit_store_failed" }, "the rate-limit store did not answer");
    throw new AppError("rate_limit_unavailable", "the server cannot check its rate limits just now: try again shortly");
  }

  app.addHook("onRequest", async (request, reply) => {
    const apiKey = carriesApiKey(request.headers.authorization);
    const routeUrl = request.routeOptions.url;
    const routeClass = classifyRoute(request.method, routeUrl, apiKey);
    const state: RequestState = { address: addressKeyOf(request.ip) ?? request.ip, routeClass };
    states.set(request, state);
    try {
      const [banned, overAddress] = await Promise.all([
        routeUrl !== undefined && banRoutes.has(routeUrl) ? undefined : guard.checkBan(state.address),
        routeClass === "unlimited" ? undefined : guard.countRequest(`${routeClass}:ip:${state.address}`, limits[routeClass].perIp),
      ]);
      if (banned) return await refuse(reply, state, banned);
      if (overAddress) return await refuse(reply, state, overAddress);
      if (routeClass === "unlimited" || !deps.identify || (!apiKey && !readCookie(request, sessionCookieName))) return;
      const principal = await deps.identify(request);
      if (!principal) return;
      const account = principal.kind === "api_key" ? `key:${principal.keyId}` : `user:${principal.userId}`;
      const overAccount = await guard.countRequest(`${routeClass}:account:${account}`, limits[routeClass].perAccount);
      if (overAccount) return await refuse(reply, state, overAccount);
      // The API policy: every request made with a key counts against its quota, whatever the route.
      if (principal.kind === "api_key" && routeClass !== "api") {
        const overQuota = await guard.countRequest(`api:account:${account}`, limits.api.perAccount);
        if (overQuota) return await refuse(reply, state, overQuota);
      }
    } catch (error) {
      failClosed(request, error);
    }
  });

  // Password sign-in: the body is parsed and valid by now, so the account is known.
  app.addHook("preHandler", async (request, reply) => {
    const state = states.get(request);
    if (!state || request.method !== "POST" || request.routeOptions.url !== "/v1/auth/login") return;
    const email = (request.body as { email?: unknown } | undefined)?.email;
    if (typeof email !== "string") return;
    const account = emailIndexOf(deps.vault, email);
    try {
      const admitted = await guard.admitPasswordCheck(state.address, account, async () => (await deps.recogniseDevice?.(request, account)) ?? false);
      if ("reason" in admitted) return await refuse(reply, state, admitted);
      state.login = { account, attempt: admitted.attempt };
    } catch (error) {
      failClosed(request, error);
    }
  });

  app.addHook("onError", async (request, _reply, error) => {
    const state = states.get(request);
    if (state && isAppError(error)) state.errorCode = error.code;
  });

  // Before the answer leaves, so the next attempt already sees this one counted.
  app.addHook("onSend", async (request, reply, payload) => {
    const state = states.get(request);
    if (!state || state.refused) return payload;
    try {
      if (state.login) {
        if (state.errorCode === "invalid_credentials") await guard.passwordFailed(state.address, state.login.account, state.login.attempt);
        else if (reply.statusCode < 300 || passwordWasRight.has(state.errorCode ?? "")) await guard.passwordAccepted(state.address, state.login.account);
      }
      const strike = state.errorCode ? strikeByErrorCode[state.errorCode] : undefined;
      if (strike) await guard.strike(state.address, strike);
    } catch (error) {
      // The attempt was counted before the handler ran; only the bookkeeping after it is lost.
      request.log.error({ err: error, event: "rate_limit_store_failed" }, "could not record a failed or accepted attempt");
    }
    return payload;
  });
}
