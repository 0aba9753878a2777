// Checks the audit trail: every chain runs 1, 2, 3 … without gaps, each record's keyed hash matches
// its content and its predecessor, each completed result matches its own hash, the chain head names
// the last record, and every signed checkpoint verifies and matches the record it names.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import { verifyServiceSignature } from "../../vault/service-signing-key.ts";
import type { Vault } from "../../vault/vault.ts";
import { checkpointMessage, genesisHash, recordHash, resultHash, type AuditEntry } from "./audit-record.ts";
import { pruneAnchorMessage } from "./prune-audit-chain.ts";

export type ChainReport = { chainId: string; records: number; checkpoints: number; problems: string[] };

const pageSize = 1000;

export async function verifyAuditChains(db: Kysely<DatabaseSchema>, vault: Vault, onlyChain?: string): Promise<ChainReport[]> {
  let heads = await db.selectFrom("audit_chain_heads").selectAll().orderBy("chain_id").execute();
  if (onlyChain) heads = heads.filter((head) => head.chain_id === onlyChain);
  const recordChains = await db.selectFrom("audit_records").select("chain_id").distinct().execute();
  const reports: ChainReport[] = [];
  for (const { chain_id: chainId } of recordChains) {
    if ((!onlyChain || chainId === onlyChain) && !heads.some((head) => head.chain_id === chainId)) {
      reports.push({ chainId, records: 0, checkpoints: 0, problems: ["records exist but the chain head is missing"] });
    }
  }
  const publicKeys = new Map((await vault.serviceKey.publicKeys()).map((key) => [key.id, key.publicKeyPem]));
  for (const head of heads) reports.push(await verifyChain(db, vault, head.chain_id, Number(head.seq), head.record_hash, publicKeys));
  return reports;
}

async function verifyChain(db: Kysely<DatabaseSchema>, vault: Vault, chainId: string, headSeq: number, headHash: string, publicKeys: Map<string, string>): Promise<ChainReport> {
  const problems: string[] = [];
  const hashesBySeq = new Map<number, string>();
  let expectedSeq = 1;
  let previousHash = genesisHash;
  let count = 0;
  // Retention removed records 1..anchor.seq: the chain resumes from the signed anchor.
  const anchor = await db.selectFrom("audit_prune_anchors").selectAll().where("chain_id", "=", chainId).executeTakeFirst();
  let start = 0;
  if (anchor) {
    const key = publicKeys.get(anchor.key_id);
    if (!key || !verifyServiceSignature(key, pruneAnchorMessage(chainId, Number(anchor.seq), anchor.record_hash, anchor.at), anchor.signature)) {
      problems.push(`the retention anchor at record ${anchor.seq} has an invalid signature`);
    } else {
      start = Number(anchor.seq);
      expectedSeq = start + 1;
      previousHash = anchor.record_hash;
      hashesBySeq.set(start, anchor.record_hash);
    }
  }
  for (let after = start; ; ) {
    const rows = await db.selectFrom("audit_records").selectAll().where("chain_id", "=", chainId).where("seq", ">", after).orderBy("seq").limit(pageSize).execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      count += 1;
      if (seq !== expectedSeq) problems.push(`record ${expectedSeq}${seq > expectedSeq + 1 ? `–${seq - 1}` : ""} is missing (next found: ${seq})`);
      const entry: AuditEntry = {
        id: row.id, at: row.at, tenantId: row.tenant_id, actorType: row.actor_type, actorId: row.actor_id, ip: row.ip,
        action: row.action, object: JSON.parse(row.object) as Record<string, string>, requestId: row.request_id,
      };
      const expectedHash = recordHash(vault, chainId, seq, previousHash, entry);
      if (expectedHash !== row.record_hash) problems.push(`record ${seq} was altered, reordered or follows a removed record (hash mismatch)`);
      if (row.result !== "pending") {
        const details = JSON.parse(row.details) as Record<string, string | number | boolean | null>;
        const result = { result: row.result as "ok" | "denied" | "error", status: row.status, errorCode: row.error_code, subjectId: row.subject_id, details };
        if (row.result_hash !== resultHash(row.record_hash, result)) problems.push(`record ${seq}: its result was altered`);
      }
      hashesBySeq.set(seq, row.record_hash);
      previousHash = row.record_hash;
      expectedSeq = seq + 1;
      after = seq;
    }
  }
  if (expectedSeq - 1 !== headSeq || (count > 0 && previousHash !== headHash)) {
    problems.push(`the chain ends at record ${expectedSeq - 1} but its head says ${headSeq}: records were removed from the end or added outside the trail`);
  }
  const checkpoints = await db.selectFrom("audit_checkpoints").selectAll().where("chain_id", "=", chainId).orderBy("seq").execute();
  for (const checkpoint of checkpoints) {
    const seq = Number(checkpoint.seq);
    if (seq < start) continue;
    const key = publicKeys.get(checkpoint.key_id);
    const message = checkpointMessage(chainId, seq, checkpoint.record_hash, checkpoint.at);
    if (!key || !verifyServiceSignature(key, message, checkpoint.signature)) problems.push(`checkpoint at record ${seq} has an invalid signature`);
    else if (hashesBySeq.get(seq) !== checkpoint.record_hash) problems.push(`checkpoint at record ${seq} does not match the record (altered or removed)`);
  }
  return { chainId, records: count, checkpoints: checkpoints.length, problems };
}
