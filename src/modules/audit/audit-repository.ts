// Appends audit records to their chain and completes them with their result. Concurrent requests are
// written in batches, one transaction per batch (group commit), so the trail costs a fraction of a disk
// sync per request; within a node one batch per chain is in flight, and across nodes the chain head is
// moved by compare-and-swap, so a chain never forks. On the embedded database the writes run on their own
// thread (sqlite-audit-writer.ts), so a batch's disk sync does not stall the event loop.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { AuditCheckpointsTable, DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { chainIdFor, genesisHash, recordHash, resultHash, type AuditEntry, type AuditResult } from "./audit-record.ts";
import type { AuditRecordRow, ChainHead } from "./sqlite-audit-writer-protocol.ts";
import { createSqliteAuditWriter } from "./sqlite-audit-writer.ts";

export type AppendedRecord = { chainId: string; seq: number; recordHash: string };

type Waiting<T, R> = { item: T; resolve(value: R): void; reject(error: unknown): void };
type AppendItem = { entry: AuditEntry; result: AuditResult | undefined };
type FinishItem = { chainId: string; seq: number; recordHash: string; result: AuditResult };

const maxBatch = 256;
// How long the first record of a batch waits for others. Commits on the event loop block it, so
// without a short window concurrent requests never get to queue up behind a commit; a writer thread
// commits while the loop runs on, and records queue up behind its commit by themselves.
const gatherMsOnLoop = 2;
const gatherMsOnWriter = 0;
const casAttempts = 20;

// Runs `write` on everything queued, batch after batch, one batch at a time per queue.
function createBatcher<T, R>(write: (items: T[]) => Promise<R[]>, gatherMs: number) {
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
        if (gatherMs > 0) setTimeout(() => void drain(), gatherMs);
        else setImmediate(() => void drain());
      }
    });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type AuditRepositoryOptions = {
  /** The embedded database's file: its audit writes then run on a thread of their own. */
  sqliteFile?: string | undefined;
};

export function createAuditRepository(db: Kysely<DatabaseSchema>, vault: Vault, options: AuditRepositoryOptions = {}) {
  const appenders = new Map<string, (item: AppendItem) => Promise<AppendedRecord>>();
  const writer = options.sqliteFile ? createSqliteAuditWriter(options.sqliteFile) : undefined;
  // Where each chain's head was after this node's last append (the writer's CAS catches any other writer).
  const knownHeads = new Map<string, ChainHead>();
  const gatherMs = writer ? gatherMsOnWriter : gatherMsOnLoop;

  function rowsOnTop(chainId: string, head: ChainHead, items: AppendItem[]): AuditRecordRow[] {
    let seq = head?.seq ?? 0;
    let previous = head?.hash ?? genesisHash;
    return items.map(({ entry, result }) => {
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
  }

  async function appendBatch(chainId: string, items: AppendItem[]): Promise<AppendedRecord[]> {
    if (writer) return appendBatchOnWriter(chainId, items);
    for (let attempt = 0; attempt < casAttempts; attempt++) {
      const written = await db.transaction().execute(async (trx) => {
        const head = await trx.selectFrom("audit_chain_heads").selectAll().where("chain_id", "=", chainId).executeTakeFirst();
        const rows = rowsOnTop(chainId, head ? { seq: Number(head.seq), hash: head.record_hash } : null, items);
        const { seq, record_hash: previous } = rows.at(-1)!;
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
      await pause(attempt);
    }
    throw new AppError("storage_failed", "the audit records could not be appended (chain busy)");
  }

  async function appendBatchOnWriter(chainId: string, items: AppendItem[]): Promise<AppendedRecord[]> {
    try {
      let head = knownHeads.has(chainId) ? knownHeads.get(chainId)! : await writer!.head(chainId);
      for (let attempt = 0; attempt < casAttempts; attempt++) {
        const rows = rowsOnTop(chainId, head, items);
        const appended = await writer!.append(chainId, head, rows);
        if (appended.ok) {
          knownHeads.set(chainId, appended.head);
          return rows.map((row) => ({ chainId, seq: row.seq, recordHash: row.record_hash }));
        }
        // Another writer moved the head first: rebuild the batch on top of where it is now.
        head = appended.head;
        await pause(attempt);
      }
    } catch (error) {
      knownHeads.delete(chainId);
      throw error;
    }
    knownHeads.delete(chainId);
    throw new AppError("storage_failed", "the audit records could not be appended (chain busy)");
  }

  const finisher = createBatcher<FinishItem, void>(async (items) => {
    if (writer) {
      await writer.complete(items.map(({ chainId, seq, recordHash: hash, result }) => ({
        chain_id: chainId, seq, result: result.result, status: result.status, error_code: result.errorCode, subject_id: result.subjectId,
        details: JSON.stringify(result.details), result_hash: resultHash(hash, result),
      })));
      return items.map(() => undefined);
    }
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
  }, gatherMs);

  return {
    append(entry: AuditEntry, result?: AuditResult): Promise<AppendedRecord> {
      const chainId = chainIdFor(entry.tenantId);
      let appender = appenders.get(chainId);
      if (!appender) {
        appender = createBatcher<AppendItem, AppendedRecord>((items) => appendBatch(chainId, items), gatherMs);
        appenders.set(chainId, appender);
      }
      return appender({ entry, result });
    },

    finish(chainId: string, seq: number, hash: string, result: AuditResult): Promise<void> {
      return finisher({ chainId, seq, recordHash: hash, result });
    },

    async checkpoint(row: AuditCheckpointsTable): Promise<void> {
      if (writer) return writer.checkpoint(row);
      await db.insertInto("audit_checkpoints").values(row).onConflict((oc) => oc.doNothing()).execute();
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
