// Prometheus metrics for the operator: requests, latencies and errors by route, sign-ins by outcome,
// security events, bans, audit write failures, alert deliveries and the seal state. Served at GET
// /metrics in the text exposition format, to the operator CIDRs only. Labels are route patterns and
// fixed words, never ids or addresses, so the number of series stays bounded.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { AppError } from "../../errors/app-error.ts";
import type { AddressFilter } from "../../http/ip-filter.ts";
import type { SecurityEvents } from "./security-events.ts";

// Sign-in steps, told apart by route; the outcome comes from the status of the answer.
const signInSteps: Record<string, string> = {
  "POST /v1/auth/login": "password",
  "POST /v1/auth/login/code": "device_code",
  "POST /v1/auth/login/totp": "totp",
  "POST /v1/auth/login/recovery-code": "recovery_code",
  "POST /v1/auth/login/passkey/verify": "passkey",
  "POST /v1/sys/operator/login": "operator",
};

function signInOutcome(step: string, status: number): string {
  if (status === 200) return "success";
  if (status === 202 && step === "password") return "second_step_required";
  if (status === 429) return "throttled";
  if (status >= 500) return "error";
  return "failure";
}

export type MetricsOptions = {
  /** Node.js process metrics (CPU, memory, event loop); on by default. */
  processMetrics?: boolean;
};

export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "strongroom_" });

  const requests = new Counter({
    name: "strongroom_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "strongroom_http_request_duration_seconds",
    help: "Time to answer HTTP requests, by method and route pattern",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: "strongroom_http_errors_total",
    help: "HTTP answers with a 5xx status, by route pattern",
    labelNames: ["route"] as const,
    registers: [registry],
  });
  const signIns = new Counter({
    name: "strongroom_logins_total",
    help: "Sign-in attempts, by step and outcome",
    labelNames: ["step", "outcome"] as const,
    registers: [registry],
  });
  const securityEvents = new Counter({
    name: "strongroom_security_events_total",
    help: "Security events raised, by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const bans = new Counter({ name: "strongroom_bans_total", help: "Automatic temporary bans imposed", registers: [registry] });
  const auditWriteFailures = new Counter({
    name: "strongroom_audit_write_failures_total",
    help: "Audit records that could not be written (the request was refused)",
    registers: [registry],
  });
  const alertDeliveries = new Counter({
    name: "strongroom_alert_deliveries_total",
    help: "Alert delivery attempts, by channel kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [registry],
  });
  let sealState: (() => boolean) | undefined;
  new Gauge({
    name: "strongroom_sealed",
    help: "1 while the vault is sealed (serving no data), 0 when unsealed",
    registers: [registry],
    collect() {
      if (sealState) this.set(sealState() ? 1 : 0);
    },
  });

  return {
    registry,

    // onResponse hook: counts every answer by route pattern (unmatched paths share one label).
    async onResponse(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const route = request.routeOptions.url ?? "unmatched";
      const method = request.method;
      const status = reply.statusCode;
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, reply.elapsedTime / 1000);
      if (status >= 500) errors.inc({ route });
      const step = signInSteps[`${method} ${route}`];
      if (step) signIns.inc({ step, outcome: signInOutcome(step, status) });
    },

    // Counts every event on the bus; returns the unsubscribe function.
    observeSecurityEvents(events: SecurityEvents): () => void {
      return events.subscribe((event) => {
        securityEvents.inc({ type: event.type });
        if (event.type === "ban") bans.inc();
        if (event.type === "audit_write_failure") auditWriteFailures.inc();
      });
    },

    observeSealState(vault: { isSealed(): boolean }): void {
      sealState = () => vault.isSealed();
    },

    observeAlertDelivery(kind: string, outcome: string): void {
      alertDeliveries.inc({ kind, outcome });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

// GET /metrics for Prometheus scrapers: address filter only (scrapers do not sign in), outside /v1 (not
// company data, so not audited).
export function registerMetricsRoute(app: FastifyInstance, options: { registry: Registry; operatorFilter: AddressFilter }): void {
  app.get("/metrics", async (request, reply) => {
    if (!options.operatorFilter.allows(request.ip)) throw new AppError("ip_not_allowed", "metrics are served to the operator addresses only");
    const text = await options.registry.metrics();
    return reply.type(options.registry.contentType).header("cache-control", "no-store").send(text);
  });
}
