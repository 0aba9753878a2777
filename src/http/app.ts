// Builds the HTTPS application: TLS policy, security headers, the sealed-state barrier for data
// routes, error mapping, and the route modules. Listening is left to the caller.
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { AppError } from "../errors/app-error.ts";
import type { Logger } from "../log/logger.ts";
import type { Vault } from "../vault/vault.ts";
import type { IdentityDeps } from "../modules/auth/identity-deps.ts";
import { registerAuthRoutes } from "../modules/auth/auth-routes.ts";
import { registerTenantRoutes } from "../modules/tenants/tenant-routes.ts";
import { createAuthenticator } from "./authenticate.ts";
import { collectRoutesForOpenApi, registerOpenApiRoute } from "./openapi.ts";
import { handleError, handleNotFound } from "./error-mapping.ts";
import { createAddressFilter } from "./ip-filter.ts";
import { registerSysRoutes } from "./routes/sys-routes.ts";
import { addSecurityHeaders } from "./security-headers.ts";
import { type CertificateSource, tlsServerOptions } from "./tls-options.ts";

export type AppOptions = {
  vault: Vault;
  logger: Logger;
  certificate: CertificateSource;
  bodyLimitBytes: number;
  trustedProxies: string[];
  operatorCidrs: string[];
  version: string;
  /** Accounts, sign-in and companies; absent only in tests of the bare server. */
  identity?: IdentityDeps;
};

const sysPrefix = "/v1/sys/";

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    https: tlsServerOptions(options.certificate),
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    // X-Forwarded-For is believed only when the connection comes from a configured proxy.
    trustProxy: options.trustedProxies.length > 0 ? options.trustedProxies : false,
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
  }) as unknown as FastifyInstance;

  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.addHook("onSend", addSecurityHeaders);

  // The barrier: until the vault is unsealed, only /v1/sys answers.
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith(sysPrefix) && options.vault.isSealed()) {
      throw new AppError("sealed", "the server is sealed: key custodians must enter their shares");
    }
  });

  const operations = collectRoutesForOpenApi(app);
  await registerSysRoutes(app, {
    vault: options.vault,
    operatorFilter: createAddressFilter(options.operatorCidrs),
    version: options.version,
  });
  if (options.identity) {
    const authenticator = createAuthenticator(options.identity);
    await registerAuthRoutes(app, options.identity, authenticator);
    await registerTenantRoutes(app, options.identity, authenticator);
  }
  registerOpenApiRoute(app, operations, options.version);
  return app;
}
