// Starts a node: opens the runtime, unseals it in the dev default, serves HTTPS and the redirecting
// HTTP port, reloads the certificate on change, and stops cleanly on SIGINT/SIGTERM.
import { mkdirSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Server as TlsServer } from "node:tls";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { createIdentityDeps } from "../modules/auth/identity-deps.ts";
import { createMessageSender } from "../modules/messages/create-message-sender.ts";
import { devUnseal } from "../runtime/dev-unseal.ts";
import { openRuntime, type Runtime } from "../runtime/open-runtime.ts";
import { ensureSelfSignedCertificate } from "../vault/self-signed-certificate.ts";
import { buildApp } from "./app.ts";
import { createRedirectServer } from "./redirect-server.ts";
import { reloadCertificateOnChange, type CertificateSource } from "./tls-options.ts";

export type RunningServer = { runtime: Runtime; httpsPort: number; httpPort: number; stop(): Promise<void> };

export async function startServer(config: Config, log: Logger, version: string): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const certificate = await certificateFor(config);
  const runtime = await openRuntime(config);
  if (config.devUnsealEnabled) await devUnseal(runtime.vault, config.dataDir, log);
  if (!config.devUnsealEnabled && (config.messages.email.kind === "outbox" || config.messages.sms.kind === "outbox")) {
    log.warn({ email: config.messages.email.kind, sms: config.messages.sms.kind },
      "messages go to the dev outbox, not to people: configure messages.email (SMTP) and messages.sms for production");
  }

  const app = await buildApp({
    vault: runtime.vault,
    logger: log,
    certificate,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustedProxies: config.server.trustedProxies,
    operatorCidrs: config.server.operatorCidrs,
    version,
    identity: createIdentityDeps({
      db: runtime.database.db,
      vault: runtime.vault,
      messages: createMessageSender(config.messages, { db: runtime.database.db, vault: runtime.vault }),
      publicUrl: config.server.publicUrl ?? `https://localhost${config.server.port === 443 ? "" : `:${config.server.port}`}`,
      sessionTimeouts: config.sessions,
    }),
  });
  await app.listen({ port: config.server.port, host: config.server.host });
  const httpsPort = (app.server.address() as AddressInfo).port;
  const stopWatching = reloadCertificateOnChange(app.server as unknown as TlsServer, certificate, log);

  const redirect = createRedirectServer(httpsPort, config.server.publicUrl);
  await new Promise<void>((resolve, reject) => {
    redirect.once("error", reject);
    redirect.listen(config.server.httpPort, config.server.host, () => resolve());
  });
  const httpPort = (redirect.address() as AddressInfo).port;
  log.info({ event: "listening", httpsPort, httpPort, sealed: runtime.vault.isSealed() }, `Strongroom listening on https://localhost:${httpsPort}`);

  return {
    runtime,
    httpsPort,
    httpPort,
    async stop() {
      stopWatching();
      await closeHttp(redirect);
      await app.close();
      await runtime.close();
    },
  };
}

async function certificateFor(config: Config): Promise<CertificateSource> {
  if (config.tls.certFile && config.tls.keyFile) return { certFile: config.tls.certFile, keyFile: config.tls.keyFile };
  return ensureSelfSignedCertificate(join(config.dataDir, "tls"));
}

function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
