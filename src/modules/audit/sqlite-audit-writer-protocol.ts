// Messages between the audit repository and its SQLite writer thread.
import type { AuditCheckpointsTable, AuditRecordsTable } from "../../store/schema.ts";

export const auditRecordColumns = [
  "chain_id", "seq", "id", "at", "tenant_id", "actor_type", "actor_id", "ip", "action", "object", "details",
  "request_id", "record_hash", "result", "status", "error_code", "subject_id", "result_hash",
] as const;

export type AuditRecordRow = { [Column in (typeof auditRecordColumns)[number]]: AuditRecordsTable[Column] } & { seq: number; record_hash: string };

export type ChainHead = { seq: number; hash: string } | null;

/** The worker's workerData: the database file and the record columns in insert order. */
export type AuditWriterSetup = { file: string; recordColumns: readonly (typeof auditRecordColumns)[number][] };

export type CompletedRecord = {
  chain_id: string; seq: number; result: string; status: number | null; error_code: string | null; subject_id: string | null; details: string; result_hash: string;
};

export type AuditWriterRequest =
  | { id: number; kind: "head"; chainId: string }
  | { id: number; kind: "append"; chainId: string; expected: ChainHead; rows: AuditRecordRow[] }
  | { id: number; kind: "complete"; items: CompletedRecord[] }
  | { id: number; kind: "checkpoint"; row: AuditCheckpointsTable };

/** ok false: the head was not the expected one (another writer moved it); `head` is where it is now. */
export type AuditWriterReply = { id: number; ok: boolean; head: ChainHead } | { id: number; error: string };
