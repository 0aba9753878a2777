// /v1/sys: health and unseal answer anyone (a sealed node must be unsealable); seal and rotate are
// operator actions: they answer only from the operator CIDRs and, once an operator account exists,
// only to a signed-in operator (see modules/operators/operator-access.ts for the bootstrap rule).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { createOperatorAccess, optionalOperatorOf } from "../../modules/operators/operator-access.ts";
import type { OperatorDeps } from "../../modules/operators/operator-deps.ts";
import { registerOperatorRoutes } from "../../modules/operators/operator-routes.ts";
import type { Vault } from "../../vault/vault.ts";
import type { AddressFilter } from "../ip-filter.ts";
import type { AbuseGuard } from "../../modules/abuse/abuse-guard.ts";
import { registerAbuseRoutes } from "../../modules/abuse/abuse-routes.ts";

type SysRouteOptions = {
  vault: Vault;
  operatorFilter: AddressFilter;
  version: string;
  /** Operator accounts and sessions; absent only in tests of the bare server (then address-only). */
  operators?: OperatorDeps | undefined;
  /** Automatic bans, which operators list and lift. */
  abuse?: AbuseGuard | undefined;
};

const sealStatusSchema = {
  type: "object",
  properties: {
    initialized: { type: "boolean" },
    sealed: { type: "boolean" },
    threshold: { type: "integer" },
    shares: { type: "integer" },
    progress: { type: "integer" },
  },
} as const;

const unsealBodySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    share: { type: "string", minLength: 1, maxLength: 256 },
    reset: { type: "boolean" },
  },
} as const;

export async function registerSysRoutes(app: FastifyInstance, options: SysRouteOptions): Promise<void> {
  const { vault, operatorFilter } = options;

  const operatorAccess = options.operators ? createOperatorAccess(options.operators, operatorFilter) : undefined;
  const requireOperator = operatorAccess?.requireOperator ?? (async (request: FastifyRequest) => {
    if (!operatorFilter.allows(request.ip)) {
      throw new AppError("ip_not_allowed", "the operator API does not answer from this address");
    }
  });
  if (options.operators && operatorAccess) await registerOperatorRoutes(app, options.operators, operatorAccess);
  if (options.abuse) await registerAbuseRoutes(app, { guard: options.abuse, requireOperator });

  app.get("/v1/sys/health", async (_request, reply) => {
    const status = await vault.status();
    const healthy = status.initialized && !status.sealed;
    return reply.code(healthy ? 200 : 503).send({
      initialized: status.initialized,
      sealed: status.sealed,
      version: options.version,
      serverTime: new Date().toISOString(),
    });
  });

  app.get("/v1/sys/seal-status", { schema: { response: { 200: sealStatusSchema } } }, async () => presentSealStatus(await vault.status()));

  app.post<{ Body: { share?: string; reset?: boolean } }>(
    "/v1/sys/unseal",
    { schema: { body: unsealBodySchema, response: { 200: sealStatusSchema } } },
    async (request, reply: FastifyReply) => {
      const { share, reset } = request.body ?? {};
      if (reset) return presentSealStatus(vault.resetUnseal());
      if (!share) throw new AppError("validation_failed", "send {\"share\": \"srs1-…\"} or {\"reset\": true}");
      const status = await vault.submitShare(share);
      if (!status.sealed) {
        request.log.warn({ event: "vault_unsealed" }, "vault unsealed");
        // Load (or make) the PAdES signing identity now, so a problem is seen at unseal, not at a signature's completion.
        await vault.documentSigningKey.identity().catch((error: unknown) => request.log.error({ err: error }, "the document-signing identity cannot be loaded: documents cannot be sealed"));
      }
      return reply.send(presentSealStatus(status));
    },
  );

  app.post("/v1/sys/seal", { preHandler: requireOperator }, async (request) => {
    const status = await vault.seal();
    request.log.warn({ event: "vault_sealed", operatorId: optionalOperatorOf(request)?.operator.id }, "vault sealed by operator request");
    return presentSealStatus(status);
  });

  app.post("/v1/sys/rotate", { preHandler: requireOperator }, async (request) => {
    const { term } = await vault.rotate();
    request.log.warn({ event: "keyring_rotated", term, operatorId: optionalOperatorOf(request)?.operator.id }, "keyring rotated");
    return { term };
  });
}

function presentSealStatus(status: Awaited<ReturnType<Vault["status"]>>) {
  return {
    initialized: status.initialized,
    sealed: status.sealed,
    threshold: status.threshold,
    shares: status.shares,
    progress: status.progress,
  };
}
