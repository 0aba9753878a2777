// Where the operator's security alerts go (every company's events, installation-wide ones too) and how
// the detectors judge "unusual". Read once at start-up as the `monitoring` piece of the configuration.
import { z } from "zod";

export const minWebhookSecretLength = 32;

const operatorAlerts = z
  .object({
    // Receives a signed POST for every security event (see alert-dispatcher.ts for the format).
    webhookUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
    // The HMAC key for X-Strongroom-Signature; shared with the receiver, never sent.
    webhookSecret: z.string().min(minWebhookSecretLength, `must be at least ${minWebhookSecretLength} characters`).optional(),
    // A PEM file of the CA that signed the receiver's certificate (an internal endpoint); the system CAs otherwise.
    webhookCaFile: z.string().min(1).optional(),
    email: z.email().optional(),
  })
  .prefault({})
  .refine((operator) => Boolean(operator.webhookUrl) === Boolean(operator.webhookSecret), {
    message: "set both webhookUrl and webhookSecret, or neither",
    path: ["webhookSecret"],
  });

export const monitoringConfigSchema = z
  .object({
    operator: operatorAlerts,
    // One principal downloading more than `limit` objects within `windowSeconds` raises mass_download.
    massDownload: z
      .object({
        limit: z.coerce.number().int().min(1).max(1_000_000).default(200),
        windowSeconds: z.coerce.number().int().min(10).max(24 * 3600).default(600),
      })
      .prefault({}),
  })
  .prefault({});

export type MonitoringConfig = z.infer<typeof monitoringConfigSchema>;
export type OperatorAlertConfig = MonitoringConfig["operator"];
