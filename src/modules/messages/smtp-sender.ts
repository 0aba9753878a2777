// E-mail through an SMTP relay (nodemailer). TLS is always verified: implicit TLS or STARTTLS, with the
// relay's own CA when configured. Nothing about a message's text reaches a log or an error message.
import { readFileSync } from "node:fs";
import type { Transporter } from "nodemailer";
import { AppError } from "../../errors/app-error.ts";
import { attachmentBytes, maxAttachmentBytes, type Message, type MessageSender } from "./message.ts";
import type { SmtpConfig } from "./messages-config.ts";

export type SmtpSenderOptions = { timeoutMs?: number };

const defaultTimeoutMs = 30_000;

export function createSmtpSender(config: SmtpConfig, options: SmtpSenderOptions = {}): MessageSender {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  // Read now: a CA file that cannot be read stops the start. nodemailer itself loads with the first message.
  const ca = config.caFile ? readCaFile(config.caFile) : undefined;
  let transport: Promise<Transporter> | undefined;
  const transportNow = () => (transport ??= import("nodemailer").then(({ createTransport }) => createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.requireTls,
    ...(config.user && config.password ? { auth: { user: config.user, pass: config.password } } : {}),
    tls: {
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ...(ca ? { ca } : {}),
    },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // The message data carries codes and links: no SMTP traffic logging, no file or URL attachments.
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  })));
  const relay = `${config.host}:${config.port}`;

  return {
    async send(message: Message): Promise<void> {
      if (message.channel !== "email") throw new AppError("internal_error", `the SMTP sender cannot send ${message.channel} messages`);
      if (attachmentBytes(message) > maxAttachmentBytes) {
        throw new AppError("payload_too_large", `the ${message.purpose} e-mail's attachments exceed ${maxAttachmentBytes} bytes`);
      }
      const attachments = (message.attachments ?? []).map((attachment) => ({ filename: attachment.filename, contentType: attachment.contentType, content: attachment.content }));
      try {
        await (await transportNow()).sendMail({ from: config.from, to: message.to, subject: message.subject, text: message.text, ...(attachments.length ? { attachments } : {}) });
      } catch (error) {
        throw new AppError("delivery_failed", `could not send the ${message.purpose} e-mail through the SMTP relay ${relay}: ${reasonOf(error)}`);
      }
    },
  };
}

function readCaFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new AppError("config_invalid", `invalid configuration:\n  - messages.email.caFile: cannot read ${file}`);
  }
}

// Named from nodemailer's error codes and the relay's reply code, never from the message itself.
function reasonOf(error: unknown): string {
  const { code, originalCode, responseCode, message } = error as { code?: string; originalCode?: string; responseCode?: number; message?: string };
  const reply = responseCode ? ` (SMTP reply ${responseCode})` : "";
  const socketDetail = `${originalCode ?? ""} ${message ?? ""}`;
  switch (code) {
    case "ESOCKET":
    case "ECONNECTION":
      if (/ECONNREFUSED/.test(socketDetail)) return "the connection was refused";
      if (/CERT|certificate|ALTNAME/i.test(socketDetail)) return `TLS failed: the relay's certificate is not trusted (${originalCode ?? "verification failed"})`;
      return "the connection failed or was closed";
    case "EDNS":
      return "the host name could not be resolved";
    case "ETIMEDOUT":
      return "the relay did not answer in time";
    case "ETLS":
      return `TLS failed: the relay does not offer STARTTLS or the upgrade failed${reply}`;
    case "EAUTH":
    case "ENOAUTH":
      return `authentication failed${reply}`;
    case "EENVELOPE":
      return `the sender or recipient address was refused${reply}`;
    case "EMESSAGE":
      return `the message was refused${reply}`;
    default:
      return `${code ?? "unknown error"}${reply}`;
  }
}
