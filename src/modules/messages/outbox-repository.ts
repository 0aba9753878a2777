// Rows of the dev outbox. Only ciphertext passes through here: the outbox sender seals and opens.
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { MessageChannel } from "./message.ts";

export type OutboxRow = { id: string; channel: MessageChannel; purpose: string; messageCiphertext: Uint8Array; createdAt: string };

export type OutboxRepository = ReturnType<typeof createOutboxRepository>;

export function createOutboxRepository(db: Kysely<DatabaseSchema>) {
  return {
    // Keeps only the newest `keep` rows, so a dev installation left running does not grow without end.
    async insertAndPrune(row: OutboxRow, keep: number): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto("message_outbox")
          .values({ id: row.id, channel: row.channel, purpose: row.purpose, message_ciphertext: row.messageCiphertext, created_at: row.createdAt })
          .execute();
        const newest = trx.selectFrom("message_outbox").select("id").orderBy("id", "desc").limit(keep);
        await trx.deleteFrom("message_outbox").where("id", "not in", newest).execute();
      });
    },

    async listNewest(limit: number): Promise<OutboxRow[]> {
      const rows = await db.selectFrom("message_outbox").selectAll().orderBy("id", "desc").limit(limit).execute();
      return rows.map((row) => ({
        id: row.id,
        channel: row.channel,
        purpose: row.purpose,
        messageCiphertext: row.message_ciphertext,
        createdAt: row.created_at,
      }));
    },
  };
}

let lastMillisecond = 0;
let sequence = 0;

// A UUIDv7 (RFC 9562) with a counter in place of rand_a: ids made in the same millisecond still sort
// in the order they were made, so "newest" is simply the highest id.
export function newOutboxId(): { id: string; createdAt: string } {
  const now = Date.now();
  if (now > lastMillisecond) {
    lastMillisecond = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMillisecond += 1;
    sequence = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMillisecond, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, createdAt: new Date(lastMillisecond).toISOString() };
}
