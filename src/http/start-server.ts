// Starts a node: opens the runtime, unseals it in the dev default, serves HTTPS and the redirecting
// HTTP port, reloads the certificate on change, and stops cleanly on SIGINT/SIGTERM.
import { mkdirSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Server as TlsServer } from "node:tls";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { createAuditTrail } from "../modules/audit/audit-trail.ts";
import { createIdentityDeps } from "../modules/auth/identity-deps.ts";
import { createMessageSender } from "../modules/messages/create-message-sender.ts";
import { createSecurityEvents } from "../modules/monitoring/security-events.ts";
import { createAlertDispatcher } from "../modules/monitoring/alert-dispatcher.ts";
import { createDetectors } from "../modules/monitoring/detectors.ts";
import { createMetrics } from "../modules/monitoring/metrics.ts";
import { createAbuseGuard } from "../modules/abuse/abuse-guard.ts";
import { openCounterStore } from "../modules/abuse/open-counter-store.ts";
import { createSignInAccountLookups } from "../modules/abuse/sign-in-accounts.ts";
import { devUnseal } from "../runtime/dev-unseal.ts";
import { openRuntime, type Runtime } from "../runtime/open-runtime.ts";
import { ensureSelfSignedCertificate } from "../vault/self-signed-certificate.ts";
import { buildApp } from "./app.ts";
import { removeAbandonedUploads } from "../modules/documents/document-content.ts";
import { createMalwareScanner } from "../modules/malware/create-malware-scanner.ts";
import { createScanningPassThrough } from "../modules/malware/scanning-pass-through.ts";
import { defaultWebDistDir } from "./web-app.ts";
import { startRetentionTimer } from "../modules/privacy/enforce-retention.ts";
import { openBackupDestinations, recordShreddedTenant, shreddedKeyOwnerName } from "../modules/backup/backup-destinations.ts";
import { createRedirectServer } from "./redirect-server.ts";
import { startBackupSchedule } from "../modules/backup/backup-schedule.ts";
import { reloadCertificateOnChange, type CertificateSource } from "./tls-options.ts";

export type RunningServer = { runtime: Runtime; httpsPort: number; httpPort: number; stop(): Promise<void> };

export async function startServer(config: Config, log: Logger, version: string): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const certificate = await certificateFor(config);
  const runtime = await openRuntime(config, { cleanupBlobTemps: true });
  if (config.devUnsealEnabled) await devUnseal(runtime.vault, config.dataDir, log);
  // Make (dev default) or load the PAdES signing identity now, so a problem shows at start-up.
  if (!runtime.vault.isSealed()) await runtime.vault.documentSigningKey.identity();
  const scanner = createMalwareScanner(config.malware);
  await scanner?.ping().catch((error: unknown) => log.error({ err: error }, "clamd does not answer: uploads are refused until it does"));
  const abandoned = await removeAbandonedUploads(runtime.database.db, runtime.blobStore);
  if (abandoned > 0) log.warn({ abandoned }, "removed uploads that never finished (the server stopped during them)");
  if (!config.devUnsealEnabled && (config.messages.email.kind === "outbox" || config.messages.sms.kind === "outbox")) {
    log.warn({ email: config.messages.email.kind, sms: config.messages.sms.kind },
      "messages go to the dev outbox, not to people: configure messages.email (SMTP) and messages.sms for production");
  }

  const events = createSecurityEvents((error, event) => log.error({ err: error, eventType: event.type }, "a security event listener failed"));
  const messages = createMessageSender(config.messages, { db: runtime.database.db, vault: runtime.vault });
  const metrics = createMetrics();
  metrics.observeSecurityEvents(events);
  metrics.observeSealState(runtime.vault);
  const alerts = createAlertDispatcher({ db: runtime.database.db, vault: runtime.vault, messages, events, operatorConfig: config.monitoring.operator, log, metrics });
  const detectors = createDetectors({ events, massDownload: { limit: config.monitoring.massDownload.limit, windowMs: config.monitoring.massDownload.windowSeconds * 1000 } });
  const counterStore = await openCounterStore(config.abuse, config.redis, (error) => log.error({ err: error, event: "rate_limit_store_connection" }, "Redis connection error"));
  const identity = createIdentityDeps({
    db: runtime.database.db,
    vault: runtime.vault,
    messages,
    publicUrl: config.server.publicUrl ?? `https://localhost${config.server.port === 443 ? "" : `:${config.server.port}`}`,
    sessionTimeouts: config.sessions,
    events,
  });
  const abuse = createAbuseGuard({ store: counterStore, config: config.abuse, events, log, userIdOfAccount: createSignInAccountLookups(identity).userIdOfAccount });
  const app = await buildApp({
    vault: runtime.vault,
    logger: log,
    certificate,
    bodyLimitBytes: config.server.bodyLimitBytes,
    trustedProxies: config.server.trustedProxies,
    operatorCidrs: config.server.operatorCidrs,
    version,
    identity,
    abuse,
    oidc: { providers: config.oidcProviders },
    web: { distDir: defaultWebDistDir },
    devOutbox: config.devUnsealEnabled,
    documents: {
      blobStore: runtime.blobStore,
      maxUploadBytes: config.documents.maxUploadBytes,
      scan: scanner && (() => {
        const stream = createScanningPassThrough(scanner);
        return { stream, verdict: stream.verdict };
      }),
    },
    monitoring: { metrics, alerts, detectors },
    privacy: { subProcessors: config.privacy.subProcessors },
    signing: { scheduleEveryMs: 60_000 },
    audit: createAuditTrail({
      db: runtime.database.db,
      vault: runtime.vault,
      log,
      copyFile: config.audit.copyFile,
      checkpointEvery: config.audit.checkpointEvery,
      events,
      sqliteFile: runtime.database.file,
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
  const shredDestinations = openBackupDestinations(config.backup.destinations);
  const retention = startRetentionTimer({
    db: runtime.database.db, vault: runtime.vault, blobStore: runtime.blobStore, log, now: () => new Date(),
    recordShredded: shredDestinations.length === 0 ? undefined : (keyOwner, shreddedAt) => recordShreddedTenant(shredDestinations, shreddedKeyOwnerName(keyOwner), new Date(shreddedAt)),
  }, config.privacy.retentionSweepMinutes * 60_000);
  const backups = startBackupSchedule(runtime, log);
  log.info({ event: "listening", httpsPort, httpPort, sealed: runtime.vault.isSealed() }, `Strongroom listening on https://localhost:${httpsPort}`);

  return {
    runtime,
    httpsPort,
    httpPort,
    async stop() {
      stopWatching();
      retention.stop();
      for (const destination of shredDestinations) destination.close();
      await backups.stop();
      await closeHttp(redirect);
      await app.close();
      await alerts.close();
      await counterStore.close();
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
