// Runs the embedded database's audit writes on a worker thread (see sqlite-audit-writer-worker.mjs).
// The thread starts on first use and is restarted if it dies; while requests wait on it, it keeps the
// process alive, and not otherwise (a server's close or a CLI's end need not stop it).
import { Worker } from "node:worker_threads";
import { AppError } from "../../errors/app-error.ts";
import type { AuditCheckpointsTable } from "../../store/schema.ts";
import { auditRecordColumns, type AuditRecordRow, type AuditWriterReply, type AuditWriterRequest, type AuditWriterSetup, type ChainHead, type CompletedRecord } from "./sqlite-audit-writer-protocol.ts";

type Waiting = { resolve(reply: { ok: boolean; head: ChainHead }): void; reject(error: unknown): void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function createSqliteAuditWriter(file: string) {
  let worker: Worker | undefined;
  let nextId = 1;
  const waiting = new Map<number, Waiting>();

  function failAll(error: unknown): void {
    for (const entry of waiting.values()) entry.reject(error);
    waiting.clear();
  }

  function started(): Worker {
    if (worker) return worker;
    const setup: AuditWriterSetup = { file, recordColumns: auditRecordColumns };
    const thread = new Worker(new URL("./sqlite-audit-writer-worker.mjs", import.meta.url), { workerData: setup });
    thread.unref();
    thread.on("message", (reply: AuditWriterReply) => {
      const entry = waiting.get(reply.id);
      if (!entry) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) thread.unref();
      if ("error" in reply) entry.reject(new AppError("storage_failed", `the audit record could not be written: ${reply.error}`));
      else entry.resolve(reply);
    });
    const lost = (error: unknown) => {
      if (worker === thread) worker = undefined;
      failAll(error instanceof Error ? new AppError("storage_failed", `the audit writer stopped: ${error.message}`) : new AppError("storage_failed", "the audit writer stopped"));
    };
    thread.on("error", lost);
    thread.on("exit", (code) => lost(new Error(`exit code ${code}`)));
    worker = thread;
    return thread;
  }

  function send(request: DistributiveOmit<AuditWriterRequest, "id">): Promise<{ ok: boolean; head: ChainHead }> {
    const thread = started();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) thread.ref();
      waiting.set(id, { resolve, reject });
      thread.postMessage({ ...request, id });
    });
  }

  return {
    async head(chainId: string): Promise<ChainHead> {
      return (await send({ kind: "head", chainId })).head;
    },
    /** Appends the rows if the chain's head is still `expected`; otherwise writes nothing and says where the head is. */
    append(chainId: string, expected: ChainHead, rows: AuditRecordRow[]): Promise<{ ok: boolean; head: ChainHead }> {
      return send({ kind: "append", chainId, expected, rows });
    },
    async complete(items: CompletedRecord[]): Promise<void> {
      await send({ kind: "complete", items });
    },
    async checkpoint(row: AuditCheckpointsTable): Promise<void> {
      await send({ kind: "checkpoint", row });
    },
  };
}

export type SqliteAuditWriter = ReturnType<typeof createSqliteAuditWriter>;
