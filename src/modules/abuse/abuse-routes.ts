// /v1/sys/bans: the operator lists the addresses banned automatically and lifts a ban. Operator API
// rules apply (the requireOperator preHandler: operator CIDRs, and an operator session once accounts
// exist); banned addresses still reach these routes, so an operator can lift a ban on their own address.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { AbuseGuard } from "./abuse-guard.ts";
import { addressKeyFromInput } from "./client-address.ts";

export type AbuseRouteDeps = {
  guard: AbuseGuard;
  requireOperator: (request: FastifyRequest) => Promise<void>;
};

const banView = {
  type: "object",
  properties: {
    address: { type: "string" },
    reason: { type: "string" },
    strikes: { type: "integer" },
    bannedAt: { type: "string" },
    expiresAt: { type: "string" },
  },
  required: ["address", "reason", "strikes", "bannedAt", "expiresAt"],
} as const;

export async function registerAbuseRoutes(app: FastifyInstance, deps: AbuseRouteDeps): Promise<void> {
  const { guard } = deps;

  app.get("/v1/sys/bans", {
    preHandler: deps.requireOperator,
    schema: {
      response: {
        200: { type: "object", properties: { bans: { type: "array", items: banView }, truncated: { type: "boolean" } }, required: ["bans", "truncated"] },
      },
    },
  }, async (request) => storeCall(request, () => guard.listBans()));

  app.delete<{ Params: { ip: string } }>("/v1/sys/bans/:ip", {
    preHandler: deps.requireOperator,
    schema: {
      params: { type: "object", properties: { ip: { type: "string", minLength: 2, maxLength: 64 } }, required: ["ip"] },
      response: { 200: { type: "object", properties: { status: { type: "string", enum: ["lifted"] }, address: { type: "string" } }, required: ["status", "address"] } },
    },
  }, async (request) => {
    const address = addressKeyFromInput(request.params.ip);
    if (!address) throw new AppError("validation_failed", "ip must be an IPv4 or IPv6 address (an IPv6 /64 as listed)");
    if (!(await storeCall(request, () => guard.liftBan(address)))) throw new AppError("not_found", "this address is not banned");
    request.log.warn({ event: "ban_lifted", address }, "ban lifted by an operator");
    return { status: "lifted", address };
  });
}

async function storeCall<T>(request: FastifyRequest, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAppError(error)) throw error;
    request.log.error({ err: error, event: "rate_limit_store_failed" }, "the rate-limit store did not answer");
    throw new AppError("rate_limit_unavailable", "the ban list cannot be read just now: try again shortly");
  }
}
