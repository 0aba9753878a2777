// The embedded database's audit writes, on their own thread and connection. Every batch is committed
// with synchronous=FULL, and node:sqlite commits synchronously: on the event loop each disk sync
// would stall every request in flight for as long as the disk takes. Here only the requests waiting
// for that batch wait. The chain head is still moved by compare-and-swap inside the transaction, so
// a writer beside this one (a CLI command on the same file) cannot fork a chain.
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import { auditRecordColumns, type AuditWriterReply, type AuditWriterRequest } from "./sqlite-audit-writer-protocol.ts";

const busyTimeoutMs = 5000;

const sqlite = new DatabaseSync((workerData as { file: string }).file, { readBigInts: false, enableForeignKeyConstraints: true, timeout: busyTimeoutMs });
sqlite.exec("PRAGMA synchronous = FULL");
sqlite.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);

const statements = new Map<string, StatementSync>();
function statement(sql: string): StatementSync {
  let prepared = statements.get(sql);
  if (!prepared) {
    prepared = sqlite.prepare(sql);
    statements.set(sql, prepared);
  }
  return prepared;
}

const readHead = 'select "seq", "record_hash" from "audit_chain_heads" where "chain_id" = ?';
const moveHead = 'update "audit_chain_heads" set "seq" = ?, "record_hash" = ? where "chain_id" = ? and "seq" = ?';
const createHead = 'insert into "audit_chain_heads" ("chain_id", "seq", "record_hash") values (?, ?, ?) on conflict ("chain_id") do nothing';
const insertRecord = `insert into "audit_records" (${auditRecordColumns.map((column) => `"${column}"`).join(", ")}) values (${auditRecordColumns.map(() => "?").join(", ")})`;
const insertCheckpoint = 'insert into "audit_checkpoints" ("chain_id", "seq", "record_hash", "at", "key_id", "signature") values (?, ?, ?, ?, ?, ?) on conflict do nothing';
const completeRecord = 'update "audit_records" set "result" = ?, "status" = ?, "error_code" = ?, "subject_id" = ?, "details" = ?, "result_hash" = ? where "chain_id" = ? and "seq" = ? and "result" = \'pending\'';

function inTransaction<T>(work: () => T): T {
  sqlite.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    sqlite.exec("COMMIT");
    return result;
  } catch (error) {
    if (sqlite.isTransaction) sqlite.exec("ROLLBACK");
    throw error;
  }
}

function currentHead(chainId: string): { seq: number; hash: string } | null {
  const row = statement(readHead).get(chainId) as { seq: number; record_hash: string } | undefined;
  return row ? { seq: Number(row.seq), hash: row.record_hash } : null;
}

function handle(request: AuditWriterRequest): AuditWriterReply {
  switch (request.kind) {
    case "head":
      return { id: request.id, ok: true, head: currentHead(request.chainId) };
    case "append":
      return inTransaction(() => {
        const head = currentHead(request.chainId);
        if ((head?.seq ?? 0) !== (request.expected?.seq ?? 0) || (head?.hash ?? null) !== (request.expected?.hash ?? null)) {
          return { id: request.id, ok: false, head };
        }
        const last = request.rows.at(-1)!;
        const moved = head
          ? statement(moveHead).run(last.seq, last.record_hash, request.chainId, head.seq)
          : statement(createHead).run(request.chainId, last.seq, last.record_hash);
        if (Number(moved.changes) !== 1) throw new Error("the audit chain head moved during the append");
        const insert = statement(insertRecord);
        for (const row of request.rows) insert.run(...auditRecordColumns.map((column) => row[column] as SQLInputValue));
        return { id: request.id, ok: true, head: { seq: last.seq, hash: last.record_hash } };
      });
    case "complete":
      return inTransaction(() => {
        const update = statement(completeRecord);
        for (const item of request.items) {
          const changed = update.run(item.result, item.status, item.error_code, item.subject_id, item.details, item.result_hash, item.chain_id, item.seq);
          if (Number(changed.changes) !== 1) throw new Error("the audit record could not be completed");
        }
        return { id: request.id, ok: true, head: null };
      });
    case "checkpoint": {
      const { chain_id, seq, record_hash, at, key_id, signature } = request.row;
      statement(insertCheckpoint).run(chain_id, seq, record_hash, at, key_id, signature);
      return { id: request.id, ok: true, head: null };
    }
  }
}

parentPort?.on("message", (request: AuditWriterRequest) => {
  let reply: AuditWriterReply;
  try {
    reply = handle(request);
  } catch (error) {
    // SQLite's own words (a constraint, a trigger, a full disk): records hold no secrets.
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
