// Retention for the audit trail: removes a chain's records older than a cut-off, oldest first, and
// leaves a signed anchor (the last removed record's sequence number and hash, signed by the service
// key) so the chain still verifies from its first remaining record. The newest record always stays,
// so the chain head keeps pointing at a record that exists. The anchor is written before anything is
// removed: a crash in between leaves records the verifier skips, never a gap it cannot explain.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";

export function pruneAnchorMessage(chainId: string, seq: number, recordHashValue: string, at: string): Buffer {
  return Buffer.from(JSON.stringify(["strongroom-audit-prune-v1", chainId, seq, recordHashValue, at]), "utf8");
}

export async function pruneAuditChain(db: Kysely<DatabaseSchema>, vault: Vault, chainId: string, olderThan: string, now: Date): Promise<number> {
  const head = await db.selectFrom("audit_chain_heads").select("seq").where("chain_id", "=", chainId).executeTakeFirst();
  if (!head) return 0;
  const firstKept = await db.selectFrom("audit_records").select((eb) => eb.fn.min("seq").as("seq"))
    .where("chain_id", "=", chainId).where("at", ">=", olderThan).executeTakeFirst();
  const boundary = Math.min(firstKept?.seq == null ? Number(head.seq) : Number(firstKept.seq) - 1, Number(head.seq) - 1);
  const anchor = await db.selectFrom("audit_prune_anchors").select("seq").where("chain_id", "=", chainId).executeTakeFirst();
  if (boundary <= Number(anchor?.seq ?? 0)) return 0;
  const last = await db.selectFrom("audit_records").select("record_hash").where("chain_id", "=", chainId).where("seq", "=", boundary).executeTakeFirst();
  if (!last) return 0;
  const at = now.toISOString();
  const signed = await vault.serviceKey.sign(pruneAnchorMessage(chainId, boundary, last.record_hash, at));
  const values = { seq: boundary, record_hash: last.record_hash, at, key_id: signed.keyId, signature: signed.signature };
  await db.insertInto("audit_prune_anchors").values({ chain_id: chainId, ...values }).onConflict((oc) => oc.column("chain_id").doUpdateSet(values)).execute();
  const removed = await db.deleteFrom("audit_records").where("chain_id", "=", chainId).where("seq", "<=", boundary).executeTakeFirst();
  await db.deleteFrom("audit_checkpoints").where("chain_id", "=", chainId).where("seq", "<=", boundary).execute();
  return Number(removed.numDeletedRows);
}

// An erased company's whole chain, with its head, checkpoints and anchor.
export async function dropAuditChain(db: Kysely<DatabaseSchema>, chainId: string): Promise<number> {
  const removed = await db.deleteFrom("audit_records").where("chain_id", "=", chainId).executeTakeFirst();
  await db.deleteFrom("audit_checkpoints").where("chain_id", "=", chainId).execute();
  await db.deleteFrom("audit_prune_anchors").where("chain_id", "=", chainId).execute();
  await db.deleteFrom("audit_chain_heads").where("chain_id", "=", chainId).execute();
  return Number(removed.numDeletedRows);
}
