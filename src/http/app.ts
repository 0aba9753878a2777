// Builds the HTTPS application: TLS policy, security headers, the sealed-state barrier for data
// routes, error mapping, and the route modules. Listening is left to the caller.
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { AppError } from "../errors/app-error.ts";
import type { Logger } from "../log/logger.ts";
import type { Vault } from "../vault/vault.ts";
import type { IdentityDeps } from "../modules/auth/identity-deps.ts";
import { registerAuthRoutes } from "../modules/auth/auth-routes.ts";
import { registerSignInAuditSubject } from "../modules/auth/sign-in-audit-subject.ts";
import { registerTenantRoutes } from "../modules/tenants/tenant-routes.ts";
import { createAuthenticator } from "./authenticate.ts";
import { registerAuditHooks, type AuditTrail } from "../modules/audit/audit-trail.ts";
import { registerAuditRoutes } from "../modules/audit/audit-routes.ts";
import type { OidcProviderConfig } from "../modules/oidc/oidc-config.ts";
import type { AlertDispatcher } from "../modules/monitoring/alert-dispatcher.ts";
import type { Detectors } from "../modules/monitoring/detectors.ts";
import { registerMetricsRoute, type Metrics } from "../modules/monitoring/metrics.ts";
import { registerMonitoringRoutes } from "../modules/monitoring/alert-routes.ts";
import { registerOidcRoutes } from "../modules/oidc/oidc-routes.ts";
import { registerSecondFactorRoutes } from "../modules/second-factors/second-factor-routes.ts";
import { collectRoutesForOpenApi, registerOpenApiRoute } from "./openapi.ts";
import { registerWebApp, type WebAppOptions } from "./web-app.ts";
import type { AbuseGuard } from "../modules/abuse/abuse-guard.ts";
import type { BlobStore } from "../store/blob-store.ts";
import type { UploadScanner } from "../modules/documents/document-content.ts";
import { registerDocumentRoutes } from "../modules/documents/document-routes.ts";
import { registerSharingRoutes } from "../modules/sharing/sharing-routes.ts";
import { indexStoredDocument, removeFromIndex } from "../modules/search/search-index.ts";
import { registerSearchRoutes } from "../modules/search/search-routes.ts";
import { registerSigningRoutes } from "../modules/signing/signing-routes.ts";
import { registerSignerRoutes } from "../modules/signing/signer-routes.ts";
import type { SealSignedDocument, SigningDeps } from "../modules/signing/signing-deps.ts";
import { startSigningSchedule } from "../modules/signing/run-signing-schedule.ts";
import { queueSigningEvent, type WebhookDeps } from "../modules/signing/signing-webhooks.ts";
import { registerSigningWebhookRoutes } from "../modules/signing/signing-webhook-routes.ts";
import { cancelRequestsOfRemovedDocument } from "../modules/signing/cancel-signature-request.ts";
import { registerSupportAccessRoutes } from "../modules/support-access/support-access-routes.ts";
import { registerPrivacyRoutes } from "../modules/privacy/privacy-routes.ts";
import type { CompanyExportSection } from "../modules/privacy/export-company.ts";
import type { SubProcessor } from "../modules/privacy/privacy-config.ts";
import { createOperatorAccess } from "../modules/operators/operator-access.ts";
import { registerDevOutboxRoute } from "../modules/messages/dev-outbox-route.ts";
import { createOperatorDeps } from "../modules/operators/operator-deps.ts";
import { registerAbuseProtection } from "../modules/abuse/abuse-protection.ts";
import { createSignInAccountLookups } from "../modules/abuse/sign-in-accounts.ts";
import { handleError, handleNotFound } from "./error-mapping.ts";
import { createAddressFilter } from "./ip-filter.ts";
import { registerSysRoutes } from "./routes/sys-routes.ts";
import { registerVerifyRoutes } from "../modules/seals/verify-routes.ts";
import { sealSignedDocument } from "../modules/seals/seal-signed-document.ts";
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
  /** The audit trail: one record per request to an audited route, fail closed. */
  audit?: AuditTrail;
  /** Metrics, alert channels and detectors of unusual activity. */
  monitoring?: { metrics: Metrics; alerts: AlertDispatcher; detectors: Detectors };
  /** Files and pages: the blob store (ciphertext only), the upload limit, and an optional malware scanner. */
  documents?: { blobStore: BlobStore; maxUploadBytes: number; scan?: UploadScanner | undefined };
  /** Dev default only: the sealed outbox readable from loopback at /v1/dev/outbox. */
  devOutbox?: boolean;
  /** Rate limits, progressive sign-in delays and automatic bans. */
  abuse?: AbuseGuard;
  /** The browser app (built by Vite into web/dist). */
  web?: WebAppOptions;
  /** GDPR: the sub-processors register shown to companies, and sections other modules add to company exports. */
  privacy?: { subProcessors: readonly SubProcessor[]; companyExportSections?: readonly CompanyExportSection[] };
  /** Signature requests: how often the reminder/expiry schedule runs (off when absent); tests may wrap the seal. */
  signing?: {
    /** Defaults to modules/seals' sealSignedDocument. */
    sealSignedDocument?: SealSignedDocument | undefined;
    scheduleEveryMs?: number | undefined;
    /** Test-only: loopback receivers and their CA. Never set from configuration. */
    webhooks?: { allowLoopback?: boolean; trustedCa?: Buffer; timeoutMs?: number };
  };
  /** Public seal verification: the largest PDF accepted by POST /v1/verify. */
  verify?: { maxPdfBytes?: number };
  /** Sign-in with Google, Microsoft or another OpenID Connect issuer. */
  oidc?: { providers: readonly OidcProviderConfig[]; fetch?: typeof fetch };
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

  // The barrier: until the vault is unsealed, only /v1/sys (and the operator's metrics) answer.
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith(sysPrefix) && request.url !== "/metrics" && options.vault.isSealed()) {
      throw new AppError("sealed", "the server is sealed: key custodians must enter their shares");
    }
  });

  const authenticator = options.identity ? createAuthenticator(options.identity) : undefined;
  // After the barrier, before the audit trail: a flood refused here writes no audit records.
  if (options.abuse) {
    const lookups = options.identity ? createSignInAccountLookups(options.identity) : undefined;
    registerAbuseProtection(app, {
      guard: options.abuse,
      vault: options.vault,
      ...(authenticator && lookups ? { identify: authenticator.identify, recogniseDevice: lookups.recogniseDevice } : {}),
    });
  }
  if (options.audit) registerAuditHooks(app, options.audit, async (request) => authenticator?.identify(request));

  const operatorFilter = createAddressFilter(options.operatorCidrs);
  if (options.monitoring) {
    app.addHook("onResponse", options.monitoring.metrics.onResponse);
    registerMetricsRoute(app, { registry: options.monitoring.metrics.registry, operatorFilter });
  }
  const operations = collectRoutesForOpenApi(app);
  await registerSysRoutes(app, {
    vault: options.vault,
    operatorFilter,
    version: options.version,
    operators: options.identity ? createOperatorDeps({ db: options.identity.db, vault: options.vault }) : undefined,
    abuse: options.abuse,
  });
  if (options.identity && authenticator) {
    if (options.audit) registerSignInAuditSubject(app, options.identity);
    await registerAuthRoutes(app, options.identity, authenticator);
    const detectors = options.monitoring?.detectors;
    await registerTenantRoutes(app, options.identity, authenticator, detectors ? detectors.notePermissionChange : undefined);
    await registerSecondFactorRoutes(app, options.identity, authenticator);
    if (options.documents) {
      // Set below, once the signing dependencies exist: a purged document cancels its open requests.
      let signingForRemovals: SigningDeps | undefined;
      await registerDocumentRoutes(app, {
        db: options.identity.db,
        vault: options.vault,
        ...options.documents,
        onDownload: options.monitoring ? options.monitoring.detectors.noteDownload : undefined,
        onChanged: (tenantId, documentId) => indexStoredDocument({ db: options.identity!.db, vault: options.vault, blobStore: options.documents!.blobStore }, tenantId, documentId),
        onRemoved: async (tenantId, documentId) => {
          await removeFromIndex(options.identity!.db, tenantId, documentId);
          if (signingForRemovals) await cancelRequestsOfRemovedDocument(signingForRemovals, tenantId, documentId);
        },
        onMalware: (tenantId, principalId, ip, signature) =>
          options.identity!.events.emit({ type: "malware_detected", tenantId, ip, userId: principalId, details: { signature } }),
      }, authenticator);
      const identity = options.identity;
      await registerSearchRoutes(app, { db: identity.db, vault: options.vault }, authenticator);
      await registerSharingRoutes(app, {
        db: identity.db, vault: options.vault, blobStore: options.documents.blobStore, messages: identity.messages,
        get publicUrl() {
          return identity.publicUrl;
        },
        onDownload: options.monitoring?.detectors.noteDownload,
      }, authenticator);
      const hookOptions = options.signing?.webhooks;
      const webhooks: WebhookDeps = {
        db: identity.db, vault: options.vault, log: options.logger,
        transport: { timeoutMs: hookOptions?.timeoutMs ?? 10_000, policy: { allowLoopback: hookOptions?.allowLoopback === true } },
        ca: hookOptions?.trustedCa ? [hookOptions.trustedCa.toString("utf8")] : undefined,
      };
      const signing: SigningDeps = {
        db: identity.db, vault: options.vault, messages: identity.messages, blobStore: options.documents.blobStore,
        get publicUrl() {
          return identity.publicUrl;
        },
        sealSignedDocument: options.signing?.sealSignedDocument ?? ((input, sealOptions) => sealSignedDocument({ db: identity.db, vault: options.vault }, input, sealOptions)),
        audit: options.audit, log: options.logger,
        // A webhook that cannot be queued never fails the step it reports.
        onRequestEvent: (event) => queueSigningEvent(webhooks, event).catch((error: unknown) => options.logger.error({ err: error }, "signing webhook event not queued")),
        webhooks,
        onSealFailure: (tenantId, requestId) => identity.events.emit({ type: "seal_failure", tenantId, details: { signatureRequestId: requestId } }),
      };
      signingForRemovals = signing;
      await registerSigningRoutes(app, signing, authenticator);
      await registerSignerRoutes(app, signing);
      await registerSigningWebhookRoutes(app, webhooks, authenticator);
      if (options.signing?.scheduleEveryMs) {
        const schedule = startSigningSchedule(signing, options.signing.scheduleEveryMs);
        app.addHook("onClose", async () => schedule.stop());
      }
      await registerSupportAccessRoutes(app, { db: options.identity.db, vault: options.vault, blobStore: options.documents.blobStore },
        authenticator, createOperatorAccess(createOperatorDeps({ db: options.identity.db, vault: options.vault }), operatorFilter));
      await registerPrivacyRoutes(app, {
        db: identity.db, vault: options.vault, blobStore: options.documents.blobStore, events: identity.events,
        subProcessors: options.privacy?.subProcessors ?? [],
        ...(options.privacy?.companyExportSections ? { companyExportSections: options.privacy.companyExportSections } : {}),
      }, authenticator);
    }
    await registerAuditRoutes(app, options.identity, authenticator);
    registerVerifyRoutes(app, { db: options.identity.db, vault: options.vault, ...(options.verify ?? {}) });
    if (options.monitoring) {
      await registerMonitoringRoutes(app, { db: options.identity.db, vault: options.vault, alerts: options.monitoring.alerts }, authenticator);
    }
    if (options.oidc) {
      await registerOidcRoutes(app, options.identity, authenticator, options.oidc.providers, options.oidc.fetch ? { fetch: options.oidc.fetch } : {});
    }
  }
  if (options.devOutbox && options.identity) registerDevOutboxRoute(app, { db: options.identity.db, vault: options.vault });
  registerOpenApiRoute(app, operations, options.version);
  if (options.web) await registerWebApp(app, options.web);
  return app;
}
