// Appends audit records to their chain and completes them with their result. Concurrent requests are
// written in batches, one transaction per batch (group commit), so the trail costs a fraction of a disk
// sync per request; within a node one batch per chain is in flight, and across nodes the chain head is
// moved by compare-and-swap, so a chain never forks.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { chainIdFor, genesisHash, recordHash, resultHash, type AuditEntry, type AuditResult } from "./audit-record.ts";

export type AppendedRecord = { chainId: string; seq: number; recordHash: string };

type Waiting<T, R> = { item: T; resolve(value: R): void; reject(error: unknown): void };
type AppendItem = { entry: AuditEntry; result: AuditResult | undefined };
type FinishItem = { chainId: string; seq: number; recordHash: string; result: AuditResult };

const maxBatch = 256;
// How long the first record of a batch waits for others. SQLite commits block the event loop, so
// without a short window concurrent requests never get to queue up behind a commit.
const gatherMs = 2;
const casAttempts = 20;

// Runs `write` on everything queued, batch after batch, one batch at a time per queue.
function createBatcher<T, R>(write: (items: T[]) => Promise<R[]>) {
  const waiting: Waiting<T, R>[] = [];
  let running = false;
  async function drain(): Promise<void> {
    while (waiting.length > 0) {
      const batch = waiting.splice(0, maxBatch);
      try {
        const results = await write(batch.map((entry) => entry.item));
        batch.forEach((entry, index) => entry.resolve(results[index]!));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    running = false;
  }
  return (item: T): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!running) {
        running = true;
        setTimeout(() => void drain(), gatherMs);
      }
    });
}

export function createAuditRepository(db: Kysely<DatabaseSchema>, vault: Vault) {
  const appenders = new Map<string, (item: AppendItem) => Promise<AppendedRecord>>();

  async function appendBatch(chainId: string, items: AppendItem[]): Promise<AppendedRecord[]> {
    for (let attempt = 0; attempt < casAttempts; attempt++) {
      const written = await db.transaction().execute(async (trx) => {
        const head = await trx.selectFrom("audit_chain_heads").selectAll().where("chain_id", "=", chainId).executeTakeFirst();
        let seq = head ? Number(head.seq) : 0;
        let previous = head?.record_hash ?? genesisHash;
        const rows = items.map(({ entry, result }) => {
          seq += 1;
          const hash = recordHash(vault, chainId, seq, previous, entry);
          previous = hash;
          return {
            chain_id: chainId, seq, id: entry.id, at: entry.at, tenant_id: entry.tenantId, actor_type: entry.actorType, actor_id: entry.actorId,
            ip: entry.ip, action: entry.action, object: JSON.stringify(entry.object), details: JSON.stringify(result?.details ?? {}),
            request_id: entry.requestId, record_hash: hash, result: result?.result ?? "pending", status: result?.status ?? null,
            error_code: result?.errorCode ?? null, subject_id: result?.subjectId ?? null, result_hash: result ? resultHash(hash, result) : null,
          };
        });
        if (head) {
          const moved = await trx.updateTable("audit_chain_heads").set({ seq, record_hash: previous })
            .where("chain_id", "=", chainId).where("seq", "=", Number(head.seq)).executeTakeFirst();
          if (Number(moved.numUpdatedRows) !== 1) return undefined;
        } else {
          const created = await trx.insertInto("audit_chain_heads").values({ chain_id: chainId, seq, record_hash: previous })
            .onConflict((oc) => oc.column("chain_id").doNothing()).executeTakeFirst();
          if (Number(created.numInsertedOrUpdatedRows ?? 0) !== 1) return undefined;
        }
        await trx.insertInto("audit_records").values(rows).execute();
        return rows.map((row) => ({ chainId, seq: row.seq, recordHash: row.record_hash }));
      });
      if (written) return written;
      // Another node moved the head first: read it again and rebuild the batch on top of it.
      await new Promise((resolve) => setTimeout(resolve, attempt));
    }
    throw new AppError("storage_failed", "the audit records could not be appended (chain busy)");
  }

  const finisher = createBatcher<FinishItem, void>(async (items) => {
    await db.transaction().execute(async (trx) => {
      for (const { chainId, seq, recordHash: hash, result } of items) {
        const updated = await trx.updateTable("audit_records").set({
          result: result.result, status: result.status, error_code: result.errorCode, subject_id: result.subjectId,
          details: JSON.stringify(result.details), result_hash: resultHash(hash, result),
        }).where("chain_id", "=", chainId).where("seq", "=", seq).where("result", "=", "pending").executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) throw new AppError("storage_failed", "the audit record could not be completed");
      }
    });
    return items.map(() => undefined);
  });

  return {
    append(entry: AuditEntry, result?: AuditResult): Promise<AppendedRecord> {
      const chainId = chainIdFor(entry.tenantId);
      let appender = appenders.get(chainId);
      if (!appender) {
        appender = createBatcher<AppendItem, AppendedRecord>((items) => appendBatch(chainId, items));
        appenders.set(chainId, appender);
      }
      return appender({ entry, result });
    },

    finish(chainId: string, seq: number, hash: string, result: AuditResult): Promise<void> {
      return finisher({ chainId, seq, recordHash: hash, result });
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
