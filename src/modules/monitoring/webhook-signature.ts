// The webhook signature: `X-Strongroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
// keyed with the channel's secret (its UTF-8 bytes). The secret itself never leaves; the timestamp
// lets receivers refuse replays, and every retry is signed afresh.
import { createHmac, randomBytes } from "node:crypto";

export const signatureHeader = "x-strongroom-signature";
export const eventHeader = "x-strongroom-event";
export const deliveryHeader = "x-strongroom-delivery";

// 256 bits from the CSRNG, shown to the company once.
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export function webhookSignature(secret: string, unixSeconds: number, body: string): string {
  const digest = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${digest}`;
}
