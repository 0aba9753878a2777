// Delivers security events from the bus to alert channels: every event to the operator's channels
// (from configuration), a company's events to that company's channels only. Webhooks are signed POSTs
// (see webhook-signature.ts); failed attempts are retried with exponential backoff up to a bound, every
// attempt is recorded in alert_deliveries, and the work in flight is bounded so an event storm cannot
// exhaust the node.
import { randomInt, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { rootCertificates as tlsRoots } from "node:tls";
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { Logger } from "../../log/logger.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import type { MessageSender } from "../messages/message.ts";
import { createAlertChannels, type AlertChannel } from "./alert-channels.ts";
import { alertPayloadOf, type AlertPayload } from "./alert-payload.ts";
import { deliverAlert, type AlertTarget, type DeliveryResult } from "./deliver-alert.ts";
import type { Metrics } from "./metrics.ts";
import type { OperatorAlertConfig } from "./monitoring-config.ts";
import type { SecurityEvent, SecurityEvents } from "./security-events.ts";
import { parseWebhookUrl, type WebhookTargetPolicy } from "./webhook-target.ts";

export type AlertDispatcherOptions = {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  messages: MessageSender;
  events: SecurityEvents;
  operatorConfig: OperatorAlertConfig;
  log: Logger;
  metrics?: Metrics | undefined;
  /** Extra CA certificates (PEM) trusted for webhook receivers, besides the system CAs. */
  trustedCa?: string | Buffer | undefined;
  /** TEST ONLY, never from configuration: lets company webhooks point at 127.0.0.1 (http or https). */
  allowLoopbackTargets?: boolean | undefined;
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number } | undefined;
  timeoutMs?: number | undefined;
  /** Deliveries queued or waiting for a retry; beyond it new ones are dropped (and counted). */
  maxPending?: number | undefined;
  concurrency?: number | undefined;
  /** Alerts per channel per minute; an event storm beyond it is dropped for that channel (and counted). */
  maxPerChannelPerMinute?: number | undefined;
};

type Job = { target: AlertTarget; payload: AlertPayload; attempt: number };

const deliveryRetentionDays = 90;
const pruneEvery = 500;

export function createAlertDispatcher(options: AlertDispatcherOptions) {
  const { db, vault, log } = options;
  const channels = createAlertChannels(db, vault);
  const policy: WebhookTargetPolicy = { allowLoopback: options.allowLoopbackTargets === true };
  const maxAttempts = options.retry?.maxAttempts ?? 6;
  const baseDelayMs = options.retry?.baseDelayMs ?? 2_000;
  const maxDelayMs = options.retry?.maxDelayMs ?? 5 * 60_000;
  const maxPending = options.maxPending ?? 1_000;
  const concurrency = options.concurrency ?? 8;
  const maxPerChannelPerMinute = options.maxPerChannelPerMinute ?? 60;
  const transport = { timeoutMs: options.timeoutMs ?? 10_000, policy };
  const extraCa = options.trustedCa ? [...tlsRoots, String(options.trustedCa)] : undefined;
  const operatorTargets = operatorTargetsFrom(options.operatorConfig, extraCa);

  const queue: Job[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const perChannel = new Map<string, { windowStart: number; count: number }>();
  let pending = 0;
  let running = 0;
  let recorded = 0;
  let closed = false;
  let idleWaiters: Array<() => void> = [];

  const countDelivery = (target: AlertTarget, outcome: string) => options.metrics?.observeAlertDelivery(target.kind, outcome);

  function underChannelLimit(channelId: string): boolean {
    const now = Date.now();
    const window = perChannel.get(channelId);
    if (!window || now - window.windowStart >= 60_000) {
      if (perChannel.size > 10_000) perChannel.clear();
      perChannel.set(channelId, { windowStart: now, count: 1 });
      return true;
    }
    window.count += 1;
    return window.count <= maxPerChannelPerMinute;
  }

  function enqueue(target: AlertTarget, payload: AlertPayload): void {
    if (closed) return;
    if (pending >= maxPending || !underChannelLimit(`${target.tenantId ?? "operator"}/${target.channelId}`)) {
      countDelivery(target, "dropped");
      log.warn({ event: "alert_dropped", channelId: target.channelId, eventType: payload.type, pending }, "alert dropped: too many alerts in flight or for this channel");
      return;
    }
    pending += 1;
    queue.push({ target, payload, attempt: 1 });
    pump();
  }

  function settle(): void {
    pending = Math.max(0, pending - 1);
    if (pending === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function pump(): void {
    while (!closed && running < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      running += 1;
      void attempt(job).finally(() => {
        running -= 1;
        pump();
      });
    }
  }

  async function attempt(job: Job): Promise<void> {
    const result = await deliverAlert(job.target, job.payload, options.messages, transport);
    const giveUp = !result.delivered && (!result.retryable || job.attempt >= maxAttempts || closed);
    const outcome = result.delivered ? "delivered" : giveUp ? "failed" : "retrying";
    await record(job, result, outcome);
    countDelivery(job.target, outcome);
    if (!result.delivered) {
      log.warn({ event: "alert_delivery_failed", channelId: job.target.channelId, tenantId: job.target.tenantId, eventType: job.payload.type,
        attempt: job.attempt, httpStatus: result.httpStatus, reason: result.error, willRetry: !giveUp }, "alert delivery failed");
    }
    if (result.delivered || giveUp) return settle();
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (job.attempt - 1));
    // Up to 10% jitter, so receivers recovering from an outage are not hit in lockstep.
    const jittered = delay + randomInt(0, Math.max(1, Math.floor(delay / 10)));
    const timer = setTimeout(() => {
      timers.delete(timer);
      queue.push({ ...job, attempt: job.attempt + 1 });
      pump();
    }, jittered);
    timer.unref();
    timers.add(timer);
  }

  async function record(job: Job, result: DeliveryResult, outcome: "delivered" | "retrying" | "failed"): Promise<void> {
    try {
      await db.insertInto("alert_deliveries").values({
        id: randomUUID(),
        tenant_id: job.target.tenantId,
        channel_id: job.target.channelId,
        channel_kind: job.target.kind,
        event_id: job.payload.id,
        event_type: job.payload.type,
        attempt: job.attempt,
        outcome,
        http_status: result.httpStatus,
        error: result.error,
        at: new Date().toISOString(),
      }).execute();
      recorded += 1;
      if (recorded % pruneEvery === 0) {
        const cutoff = new Date(Date.now() - deliveryRetentionDays * 86_400_000).toISOString();
        await db.deleteFrom("alert_deliveries").where("at", "<", cutoff).execute();
      }
    } catch (error) {
      log.error({ err: error, event: "alert_delivery_record_failed", channelId: job.target.channelId }, "could not record an alert delivery attempt");
    }
  }

  async function companyTarget(channel: AlertChannel): Promise<AlertTarget> {
    if (channel.kind === "email") return { kind: "email", channelId: channel.id, tenantId: channel.tenantId, to: channel.target };
    return {
      kind: "webhook",
      channelId: channel.id,
      tenantId: channel.tenantId,
      url: parseWebhookUrl(channel.target, policy),
      secret: await channels.secretOf(channel),
      ca: extraCa,
      externalOnly: true,
    };
  }

  async function dispatch(event: SecurityEvent): Promise<void> {
    if (closed) return;
    const payload = alertPayloadOf(randomUUID(), event);
    for (const target of operatorTargets) enqueue(target, payload);
    if (!event.tenantId) return;
    // Counted while the company's channels are looked up, so idle() waits for it.
    pending += 1;
    try {
      for (const channel of await channels.list(event.tenantId)) {
        if (channel.eventTypes.length > 0 && !channel.eventTypes.includes(event.type)) continue;
        try {
          enqueue(await companyTarget(channel), payload);
        } catch (error) {
          log.error({ err: error, event: "alert_dispatch_failed", tenantId: event.tenantId, channelId: channel.id, eventType: event.type }, "could not prepare a company's alert channel");
        }
      }
    } catch (error) {
      // Sealed vault, database down: the operator still hears of it through their own channels.
      log.error({ err: error, event: "alert_dispatch_failed", tenantId: event.tenantId, eventType: event.type }, "could not deliver a company's security alert");
    } finally {
      settle();
    }
  }

  const unsubscribe = options.events.subscribe(dispatch);

  return {
    // Checks a webhook URL a company wants to save (https, not inside this network).
    parseWebhookUrl(text: string): URL {
      return parseWebhookUrl(text, policy);
    },

    // One synchronous attempt of a test alert to one company channel, recorded like any other.
    async sendTest(tenantId: string, channelId: string): Promise<DeliveryResult> {
      const channel = await channels.find(tenantId, channelId);
      if (!channel) throw new AppError("not_found", "no such alert channel");
      const payload = alertPayloadOf(randomUUID(), { type: "test", at: new Date().toISOString(), tenantId, details: { channelId } });
      const target = await companyTarget(channel);
      const result = await deliverAlert(target, payload, options.messages, transport);
      await record({ target, payload, attempt: 1 }, result, result.delivered ? "delivered" : "failed");
      countDelivery(target, result.delivered ? "delivered" : "failed");
      return result;
    },

    // Resolves when no delivery is queued, running or waiting for a retry (tests, graceful stop).
    async idle(): Promise<void> {
      // Let listeners of events emitted just before start first.
      await new Promise((resolve) => setImmediate(resolve));
      if (pending === 0) return;
      await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    // Stops listening and abandons waiting retries (logged).
    close(): void {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      if (timers.size + queue.length > 0) log.warn({ event: "alerts_abandoned", count: timers.size + queue.length }, "alerts still waiting were abandoned at shutdown");
      timers.clear();
      queue.length = 0;
      pending = 0;
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    },
  };
}

export type AlertDispatcher = ReturnType<typeof createAlertDispatcher>;

function operatorTargetsFrom(config: OperatorAlertConfig, extraCa: string[] | undefined): AlertTarget[] {
  const targets: AlertTarget[] = [];
  if (config.webhookUrl && config.webhookSecret) {
    const ca = config.webhookCaFile ? [...tlsRoots, readCaFile(config.webhookCaFile)] : extraCa;
    // The operator's receiver is trusted configuration and may well live on the internal network.
    targets.push({ kind: "webhook", channelId: "operator-webhook", tenantId: null, url: new URL(config.webhookUrl), secret: config.webhookSecret, ca, externalOnly: false });
  }
  if (config.email) targets.push({ kind: "email", channelId: "operator-email", tenantId: null, to: config.email });
  return targets;
}

function readCaFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new AppError("config_invalid", `invalid configuration:\n  - monitoring.operator.webhookCaFile: cannot read ${file}`);
  }
}

