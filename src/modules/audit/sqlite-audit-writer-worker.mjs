// @ts-check
// The embedded database's audit writes, on their own thread and connection. Every batch is committed
// with synchronous=FULL, and node:sqlite commits synchronously: on the event loop each disk sync
// would stall every request in flight for as long as the disk takes. Here only the requests waiting
// for that batch wait. The chain head is still moved by compare-and-swap inside the transaction, so
// a writer beside this one (a CLI command on the same file) cannot fork a chain.
// Plain JavaScript (type-checked): a worker that loads a TypeScript file loads its own copy of Node's
// type stripper, ~17 MB more per thread. The record columns come from the repository (workerData).
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

/** @typedef {import("./sqlite-audit-writer-protocol.ts").AuditWriterRequest} AuditWriterRequest */
/** @typedef {import("./sqlite-audit-writer-protocol.ts").AuditWriterReply} AuditWriterReply */
/** @typedef {import("./sqlite-audit-writer-protocol.ts").AuditWriterSetup} AuditWriterSetup */
/** @typedef {import("./sqlite-audit-writer-protocol.ts").ChainHead} ChainHead */

const busyTimeoutMs = 5000;
const { file, recordColumns } = /** @type {AuditWriterSetup} */ (workerData);

const sqlite = new DatabaseSync(file, { readBigInts: false, enableForeignKeyConstraints: true, timeout: busyTimeoutMs });
sqlite.exec("PRAGMA synchronous = FULL");
sqlite.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);

/** @type {Map<string, import("node:sqlite").StatementSync>} */
const statements = new Map();
/** @param {string} sql */
function statement(sql) {
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
const insertRecord = `insert into "audit_records" (${recordColumns.map((column) => `"${column}"`).join(", ")}) values (${recordColumns.map(() => "?").join(", ")})`;
const insertCheckpoint = 'insert into "audit_checkpoints" ("chain_id", "seq", "record_hash", "at", "key_id", "signature") values (?, ?, ?, ?, ?, ?) on conflict do nothing';
const completeRecord = 'update "audit_records" set "result" = ?, "status" = ?, "error_code" = ?, "subject_id" = ?, "details" = ?, "result_hash" = ? where "chain_id" = ? and "seq" = ? and "result" = \'pending\'';

/**
 * @template T
 * @param {() => T} work
 * @returns {T}
 */
function inTransaction(work) {
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

/**
 * @param {string} chainId
 * @returns {ChainHead}
 */
function currentHead(chainId) {
  const row = /** @type {{ seq: number; record_hash: string } | undefined} */ (statement(readHead).get(chainId));
  return row ? { seq: Number(row.seq), hash: row.record_hash } : null;
}

/**
 * @param {AuditWriterRequest} request
 * @returns {AuditWriterReply}
 */
function handle(request) {
  switch (request.kind) {
    case "head":
      return { id: request.id, ok: true, head: currentHead(request.chainId) };
    case "append":
      return inTransaction(() => {
        const head = currentHead(request.chainId);
        if ((head?.seq ?? 0) !== (request.expected?.seq ?? 0) || (head?.hash ?? null) !== (request.expected?.hash ?? null)) {
          return { id: request.id, ok: false, head };
        }
        const last = request.rows[request.rows.length - 1];
        if (!last) throw new Error("an append without records");
        const moved = head
          ? statement(moveHead).run(last.seq, last.record_hash, request.chainId, head.seq)
          : statement(createHead).run(request.chainId, last.seq, last.record_hash);
        if (Number(moved.changes) !== 1) throw new Error("the audit chain head moved during the append");
        const insert = statement(insertRecord);
        for (const row of request.rows) insert.run(...recordColumns.map((column) => row[column]));
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

parentPort?.on("message", (/** @type {AuditWriterRequest} */ request) => {
  /** @type {AuditWriterReply} */
  let reply;
  try {
    reply = handle(request);
  } catch (error) {
    // SQLite's own words (a constraint, a trigger, a full disk): records hold no secrets.
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
