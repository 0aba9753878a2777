// One delivery attempt to one channel: a signed HTTPS POST for a webhook, a message for e-mail. The
// answer is a value (delivered, or why not and whether trying again may help); it never throws, and its
// reasons are built from error codes and statuses only, never from the URL (which may carry a token).
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { MessageSender } from "../messages/message.ts";
import { alertEmailOf, type AlertPayload } from "./alert-payload.ts";
import { externalOnlyLookup, type WebhookTargetPolicy } from "./webhook-target.ts";
import { deliveryHeader, eventHeader, signatureHeader, webhookSignature } from "./webhook-signature.ts";

export type AlertTarget =
  | { kind: "webhook"; channelId: string; tenantId: string | null; url: URL; secret: string; ca?: string[] | undefined; externalOnly: boolean }
  | { kind: "email"; channelId: string; tenantId: string | null; to: string };

export type DeliveryResult = { delivered: boolean; httpStatus: number | null; error: string | null; retryable: boolean };

export type WebhookTransport = { timeoutMs: number; policy: WebhookTargetPolicy };

const maxResponseBytes = 64 * 1024;

export async function deliverAlert(target: AlertTarget, payload: AlertPayload, messages: MessageSender, transport: WebhookTransport): Promise<DeliveryResult> {
  if (target.kind === "email") {
    const email = alertEmailOf(payload);
    try {
      await messages.send({ channel: "email", to: target.to, subject: email.subject, text: email.text, purpose: "security_alert" });
      return { delivered: true, httpStatus: null, error: null, retryable: false };
    } catch (error) {
      return { delivered: false, httpStatus: null, error: `e-mail not sent (${(error as { code?: string }).code ?? "delivery_failed"})`, retryable: true };
    }
  }
  return postWebhook(target, payload, transport);
}

async function postWebhook(target: Extract<AlertTarget, { kind: "webhook" }>, payload: AlertPayload, transport: WebhookTransport): Promise<DeliveryResult> {
  return postSignedWebhook(target, { body: JSON.stringify(payload), eventType: payload.type, deliveryId: payload.id, userAgent: "Strongroom-Alerts/1" }, transport);
}

export type SignedWebhookTarget = { url: URL; secret: string; ca?: string[] | undefined; externalOnly: boolean };

// One signed HTTPS POST of a JSON body (alerts, signature request events), signed afresh at each attempt.
export async function postSignedWebhook(
  target: SignedWebhookTarget,
  message: { body: string; eventType: string; deliveryId: string; userAgent: string },
  transport: WebhookTransport,
): Promise<DeliveryResult> {
  const { body } = message;
  const headers = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "user-agent": message.userAgent,
    [eventHeader]: message.eventType,
    [deliveryHeader]: message.deliveryId,
    [signatureHeader]: webhookSignature(target.secret, Math.floor(Date.now() / 1000), body),
  };
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const options = {
        method: "POST",
        headers,
        timeout: transport.timeoutMs,
        agent: false as const,
        ...(target.externalOnly ? { lookup: externalOnlyLookup(transport.policy) } : {}),
      };
      const onResponse = (response: IncomingMessage) => {
        let received = 0;
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxResponseBytes) response.destroy();
        });
        response.on("close", () => resolve(response.statusCode ?? 0));
        response.on("error", () => resolve(response.statusCode ?? 0));
      };
      const sent: ClientRequest = target.url.protocol === "https:"
        ? httpsRequest(target.url, { ...options, minVersion: "TLSv1.2", ...(target.ca ? { ca: target.ca } : {}) }, onResponse)
        : httpRequest(target.url, options, onResponse);
      sent.on("timeout", () => sent.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
      sent.on("error", reject);
      sent.end(body);
    });
    if (status >= 200 && status < 300) return { delivered: true, httpStatus: status, error: null, retryable: false };
    const retryable = status >= 500 || status === 408 || status === 429;
    return { delivered: false, httpStatus: status, error: `the receiver answered HTTP ${status}`, retryable };
  } catch (error) {
    return { delivered: false, httpStatus: null, ...networkReason(error) };
  }
}

function networkReason(error: unknown): { error: string; retryable: boolean } {
  const code = String((error as { code?: unknown }).code ?? "");
  if (code === "EADDRINTERNAL") return { error: "the host resolves to an address inside this installation's network", retryable: false };
  if (code === "ECONNREFUSED") return { error: "the connection was refused", retryable: true };
  if (code === "ETIMEDOUT") return { error: "the receiver did not answer in time", retryable: true };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { error: "the host name could not be resolved", retryable: true };
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) return { error: `TLS failed: the receiver's certificate is not trusted (${code})`, retryable: true };
  return { error: `the connection failed${/^[A-Z_0-9]{2,40}$/.test(code) ? ` (${code})` : ""}`, retryable: true };
}
