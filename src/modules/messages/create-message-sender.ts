// Chooses the e-mail and SMS providers once, from configuration, and routes each message by channel,
// so the code that sends a sign-in code or an invitation never asks which provider is configured.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import type { Message, MessageSender } from "./message.ts";
import type { MessagesConfig } from "./messages-config.ts";
import { createOutboxSender } from "./outbox-sender.ts";
import { createSmsHttpSender } from "./sms-http-sender.ts";
import { createSmtpSender } from "./smtp-sender.ts";

export type MessageSenderDependencies = { db: Kysely<DatabaseSchema>; vault: Vault };

export function createMessageSender(config: MessagesConfig, deps: MessageSenderDependencies): MessageSender {
  const outbox = createOutboxSender(deps);
  const email = config.email.kind === "smtp" ? createSmtpSender(config.email) : outbox;
  const sms = config.sms.kind === "http" ? createSmsHttpSender(config.sms) : outbox;
  return {
    send(message: Message): Promise<void> {
      return message.channel === "email" ? email.send(message) : sms.send(message);
    },
  };
}
