// The dev default in place of SMTP and SMS: messages are sealed through the vault into the database
// and read back with `strongroom dev outbox`. Their text never reaches the application log.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { EncryptionContext } from "../../vault/key-encryption-key.ts";
import type { Vault } from "../../vault/vault.ts";
import { messageSchema, type Message, type MessageSender } from "./message.ts";
import { createOutboxRepository, newOutboxId } from "./outbox-repository.ts";

export type OutboxDependencies = { db: Kysely<DatabaseSchema>; vault: Vault };

export type OutboxEntry = { id: string; createdAt: string; message: Message };

export const outboxCapacity = 1000;

const outboxTenantId = "system:outbox";

function sealingContext(id: string): EncryptionContext {
  return { tenantId: outboxTenantId, objectType: "message", objectId: id, objectVersion: 1 };
}

export function createOutboxSender(deps: OutboxDependencies, options: { capacity?: number } = {}): MessageSender {
  const repository = createOutboxRepository(deps.db);
  const capacity = options.capacity ?? outboxCapacity;
  return {
    async send(message: Message): Promise<void> {
      const { id, createdAt } = newOutboxId();
      const { channel, to, subject, text, purpose } = message;
      const messageCiphertext = await deps.vault.data.sealString(sealingContext(id), JSON.stringify({ channel, to, subject, text, purpose }));
      await repository.insertAndPrune({ id, channel, purpose, messageCiphertext, createdAt }, capacity);
    },
  };
}

// Newest first. Opening needs the vault unsealed, like every other read of sealed data.
export async function listOutbox(deps: OutboxDependencies, limit: number): Promise<OutboxEntry[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new AppError("bad_request", "the outbox limit must be a positive whole number");
  deps.vault.requireUnsealed();
  const rows = await createOutboxRepository(deps.db).listNewest(Math.min(limit, outboxCapacity));
  const entries: OutboxEntry[] = [];
  for (const row of rows) {
    const opened = await deps.vault.data.openString(sealingContext(row.id), row.messageCiphertext);
    entries.push({ id: row.id, createdAt: row.createdAt, message: messageSchema.parse(JSON.parse(opened)) });
  }
  return entries;
}
