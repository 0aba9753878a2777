// A company's webhooks for signature request events: an https URL (never one inside this installation's
// network) and a signing secret shown once, both stored sealed. Each event becomes one delivery per
// webhook, queued in the database and posted signed with HMAC-SHA256 over timestamp and body (the
// secret itself never travels), retried with exponential backoff until it succeeds or runs out of tries.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { Logger } from "../../log/logger.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newPublicId } from "../auth/secret-tokens.ts";
import { postSignedWebhook, type WebhookTransport } from "../monitoring/deliver-alert.ts";
import { newWebhookSecret } from "../monitoring/webhook-signature.ts";
import { parseWebhookUrl } from "../monitoring/webhook-target.ts";
import type { SigningEvent } from "./signing-deps.ts";

export type WebhookDeps = {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  transport: WebhookTransport;
  /** Extra CAs trusted for receivers (tests: a local receiver's self-signed certificate). */
  ca?: string[] | undefined;
  log?: Logger | undefined;
};

export const maxWebhooksPerCompany = 10;
export const maxDeliveryAttempts = 8;
export const firstRetryMs = 30_000;
// While one node posts a delivery, others leave it alone for this long.
const attemptLeaseMs = 60_000;

const urlContext = (tenantId: string, id: string) => ({ tenantId, objectType: "signing_webhook", objectId: id, objectVersion: 1, field: "url" });
const secretContext = (tenantId: string, id: string) => ({ tenantId, objectType: "signing_webhook", objectId: id, objectVersion: 1, field: "secret" });
const payloadContext = (tenantId: string, id: string) => ({ tenantId, objectType: "signing_webhook_delivery", objectId: id, objectVersion: 1, field: "payload" });

export async function registerSigningWebhook(deps: WebhookDeps, input: { tenantId: string; createdBy: string; url: string }): Promise<{ id: string; url: string; secret: string }> {
  const url = parseWebhookUrl(input.url, deps.transport.policy);
  const count = await deps.db.selectFrom("signing_webhooks").select((eb) => eb.fn.countAll<number>().as("count"))
    .where("tenant_id", "=", input.tenantId).where("deleted_at", "is", null).executeTakeFirstOrThrow();
  if (Number(count.count) >= maxWebhooksPerCompany) throw new AppError("conflict", `a company may have at most ${maxWebhooksPerCompany} signing webhooks`);
  const id = newPublicId();
  const secret = newWebhookSecret();
  await deps.db.insertInto("signing_webhooks").values({
    tenant_id: input.tenantId, id, created_by: input.createdBy, created_at: new Date().toISOString(), deleted_at: null,
    url_ciphertext: await deps.vault.data.sealString(urlContext(input.tenantId, id), url.href),
    secret_ciphertext: await deps.vault.data.sealString(secretContext(input.tenantId, id), secret),
  }).execute();
  return { id, url: url.href, secret };
}

export async function listSigningWebhooks(deps: WebhookDeps, tenantId: string) {
  const rows = await deps.db.selectFrom("signing_webhooks").selectAll().where("tenant_id", "=", tenantId).where("deleted_at", "is", null)
    .orderBy("created_at").limit(maxWebhooksPerCompany).execute();
  return Promise.all(rows.map(async (row) => {
    const recent = await deps.db.selectFrom("signing_webhook_deliveries").select(["event", "status", "attempts", "last_http_status", "last_error", "created_at", "delivered_at"])
      .where("tenant_id", "=", tenantId).where("webhook_id", "=", row.id).orderBy("created_at", "desc").limit(20).execute();
    return {
      id: row.id, url: await deps.vault.data.openString(urlContext(tenantId, row.id), row.url_ciphertext), createdAt: row.created_at,
      recentDeliveries: recent.map((delivery) => ({
        event: delivery.event, status: delivery.status, attempts: Number(delivery.attempts), httpStatus: delivery.last_http_status,
        error: delivery.last_error, createdAt: delivery.created_at, deliveredAt: delivery.delivered_at,
      })),
    };
  }));
}

export async function removeSigningWebhook(deps: WebhookDeps, tenantId: string, id: string): Promise<void> {
  const changed = await deps.db.updateTable("signing_webhooks").set({ deleted_at: new Date().toISOString() })
    .where("tenant_id", "=", tenantId).where("id", "=", id).where("deleted_at", "is", null).executeTakeFirst();
  if (Number(changed.numUpdatedRows) !== 1) throw new AppError("not_found", "no such webhook");
}

// Queues one delivery per webhook of the company and tries them at once, without holding up the caller.
export async function queueSigningEvent(deps: WebhookDeps, event: SigningEvent): Promise<void> {
  const hooks = await deps.db.selectFrom("signing_webhooks").select("id").where("tenant_id", "=", event.tenantId).where("deleted_at", "is", null)
    .limit(maxWebhooksPerCompany).execute();
  for (const hook of hooks) {
    const id = newPublicId();
    const payload = { id, type: `signature_request.${event.event}`, at: event.at, tenantId: event.tenantId, signatureRequestId: event.requestId, recipientId: event.recipientId };
    await deps.db.insertInto("signing_webhook_deliveries").values({
      tenant_id: event.tenantId, id, webhook_id: hook.id, event: payload.type, status: "pending", attempts: 0, next_attempt_at: event.at,
      payload_ciphertext: await deps.vault.data.sealString(payloadContext(event.tenantId, id), JSON.stringify(payload)),
      last_http_status: null, last_error: null, created_at: event.at, delivered_at: null,
    }).execute();
    void attemptDelivery(deps, event.tenantId, id, Date.now()).catch((error: unknown) => deps.log?.warn({ err: error }, "signing webhook delivery failed"));
  }
}

export function retryDelayMs(attempts: number): number {
  return firstRetryMs * 2 ** Math.max(0, attempts - 1);
}

async function attemptDelivery(deps: WebhookDeps, tenantId: string, id: string, now: number): Promise<"delivered" | "retrying" | "failed" | "skipped"> {
  const { db, vault } = deps;
  const row = await db.selectFrom("signing_webhook_deliveries").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
  if (!row || row.status !== "pending" || (row.next_attempt_at && Date.parse(row.next_attempt_at) > now)) return "skipped";
  const attempts = Number(row.attempts) + 1;
  const claimed = await db.updateTable("signing_webhook_deliveries").set({ attempts, next_attempt_at: new Date(now + attemptLeaseMs).toISOString() })
    .where("tenant_id", "=", tenantId).where("id", "=", id).where("status", "=", "pending").where("attempts", "=", Number(row.attempts)).executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return "skipped";
  const hook = await db.selectFrom("signing_webhooks").selectAll().where("tenant_id", "=", tenantId).where("id", "=", row.webhook_id).executeTakeFirst();
  const thisDelivery = db.updateTable("signing_webhook_deliveries").where("tenant_id", "=", tenantId).where("id", "=", id);
  if (!hook || hook.deleted_at) {
    await thisDelivery.set({ status: "failed", next_attempt_at: null, last_error: "the webhook was removed" }).execute();
    return "failed";
  }
  const url = new URL(await vault.data.openString(urlContext(tenantId, hook.id), hook.url_ciphertext));
  const secret = await vault.data.openString(secretContext(tenantId, hook.id), hook.secret_ciphertext);
  const body = await vault.data.openString(payloadContext(tenantId, id), row.payload_ciphertext);
  const result = await postSignedWebhook({ url, secret, ca: deps.ca, externalOnly: true }, { body, eventType: row.event, deliveryId: id, userAgent: "Strongroom-Signing/1" }, deps.transport);
  if (result.delivered) {
    await thisDelivery.set({ status: "delivered", next_attempt_at: null, last_http_status: result.httpStatus, last_error: null, delivered_at: new Date().toISOString() }).execute();
    return "delivered";
  }
  const giveUp = !result.retryable || attempts >= maxDeliveryAttempts;
  await thisDelivery.set({
    status: giveUp ? "failed" : "pending", next_attempt_at: giveUp ? null : new Date(now + retryDelayMs(attempts)).toISOString(),
    last_http_status: result.httpStatus, last_error: result.error,
  }).execute();
  return giveUp ? "failed" : "retrying";
}

// Retries of deliveries that are due, for the schedule (with any clock in tests).
export async function runWebhookDeliveries(deps: WebhookDeps, now = Date.now()): Promise<{ delivered: number; retrying: number; failed: number }> {
  const due = await deps.db.selectFrom("signing_webhook_deliveries").select(["tenant_id", "id"]).where("status", "=", "pending")
    .where("next_attempt_at", "<=", new Date(now).toISOString()).orderBy("next_attempt_at").limit(100).execute();
  const counts = { delivered: 0, retrying: 0, failed: 0 };
  for (const delivery of due) {
    const outcome = await attemptDelivery(deps, delivery.tenant_id, delivery.id, now);
    if (outcome !== "skipped") counts[outcome]++;
  }
  return counts;
}
