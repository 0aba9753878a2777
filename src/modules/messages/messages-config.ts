// How messages leave the installation, chosen once from configuration: e-mail by SMTP and SMS by an
// HTTPS API in production, or the sealed dev outbox (the default, read with `strongroom dev outbox`).
import { z } from "zod";

const outbox = z.object({ kind: z.literal("outbox") });

const smtp = z
  .object({
    kind: z.literal("smtp"),
    host: z.string().min(1),
    port: z.coerce.number().int().min(1).max(65535).default(587),
    // Implicit TLS from the first byte (usually port 465); otherwise STARTTLS on a plain connection.
    secure: z.boolean().default(false),
    // Refuse to send when the server does not offer STARTTLS: codes and links must not cross in clear.
    requireTls: z.boolean().default(true),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    from: z.string().min(3),
    // A PEM file of the CA that signed the SMTP server's certificate (an internal relay); the system CAs otherwise.
    caFile: z.string().min(1).optional(),
  })
  .refine((email) => Boolean(email.user) === Boolean(email.password), {
    message: "set both user and password, or neither",
    path: ["password"],
  })
  .refine((email) => !email.user || email.secure || email.requireTls, {
    message: "the SMTP password would be sent in clear: set secure or requireTls when user and password are set",
    path: ["requireTls"],
  });

const smsHttp = z.object({
  kind: z.literal("http"),
  url: z.url({ protocol: /^https$/, error: "must be an https:// URL" }),
  token: z.string().min(1),
  from: z.string().min(1).optional(),
});

export const messagesConfigSchema = z
  .object({
    email: z.discriminatedUnion("kind", [outbox, smtp]).default({ kind: "outbox" }),
    sms: z.discriminatedUnion("kind", [outbox, smsHttp]).default({ kind: "outbox" }),
  })
  .prefault({});

export type MessagesConfig = z.infer<typeof messagesConfigSchema>;
export type SmtpConfig = z.infer<typeof smtp>;
export type SmsHttpConfig = z.infer<typeof smsHttp>;
