// The append-only transparency log of seals: an RFC 6962 Merkle tree whose leaves are the signed seal
// records, with a signed tree head (size, root, time, service-key signature) for every size. A
// verifier who kept an older head can ask for a consistency proof, so an entry removed, altered or
// inserted in the past shows up even if the operator re-signs the heads.
import type { Kysely, Transaction } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import { verifyServiceSignature } from "../../vault/service-signing-key.ts";
import type { Vault } from "../../vault/vault.ts";
import { canonicalJson } from "./canonical-json.ts";
import { consistencyProof, inclusionProof, leafHash, MerkleFrontier, verifyConsistency, verifyInclusion } from "./merkle-tree.ts";

export type SignedTreeHead = { treeSize: number; rootHash: string; signedAt: string; keyId: string; signature: string };

export type InclusionProof = { logIndex: number; treeSize: number; leafHash: string; path: string[] };

export type TransparencyLogDeps = { db: Kysely<DatabaseSchema>; vault: Pick<Vault, "serviceKey"> };

/** The bytes a tree head's signature covers. */
export function treeHeadMessage(head: Pick<SignedTreeHead, "treeSize" | "rootHash" | "signedAt">): Buffer {
  return Buffer.from(canonicalJson({ format: "strongroom-tree-head/v1", treeSize: head.treeSize, rootHash: head.rootHash, signedAt: head.signedAt }), "utf8");
}

export function verifyTreeHead(head: SignedTreeHead, publicKeys: readonly { id: string; publicKeyPem: string }[]): boolean {
  const key = publicKeys.find((item) => item.id === head.keyId);
  return key !== undefined && verifyServiceSignature(key.publicKeyPem, treeHeadMessage(head), head.signature);
}

export function verifyInclusionProof(leaf: Uint8Array, proof: InclusionProof, head: Pick<SignedTreeHead, "treeSize" | "rootHash">): boolean {
  if (proof.treeSize !== head.treeSize || leafHash(leaf).toString("hex") !== proof.leafHash) return false;
  return verifyInclusion(proof.logIndex, proof.treeSize, Buffer.from(proof.leafHash, "hex"), proof.path.map(fromHex), fromHex(head.rootHash));
}

export function verifyConsistencyProof(older: Pick<SignedTreeHead, "treeSize" | "rootHash">, newer: Pick<SignedTreeHead, "treeSize" | "rootHash">, proof: readonly string[]): boolean {
  return verifyConsistency(older.treeSize, newer.treeSize, fromHex(older.rootHash), fromHex(newer.rootHash), proof.map(fromHex));
}

// One append at a time per process; appends from other nodes are caught by the primary key and retried.
let appendQueue: Promise<unknown> = Promise.resolve();
const appendAttempts = 8;

// The tree's right edge as of the last append seen, per database: an append reads only the entries
// added since (by other nodes) instead of every leaf hash, and hashes O(log n) nodes, not n. It is
// dropped, and rebuilt from every stored entry, whenever the newest signed tree head disagrees with it
// (a restored or rewritten database).
const frontiers = new WeakMap<Kysely<DatabaseSchema>, MerkleFrontier>();

async function currentFrontier(db: Kysely<DatabaseSchema>): Promise<MerkleFrontier> {
  const head = await latestTreeHead(db);
  const agrees = (frontier: MerkleFrontier) => head === undefined || head.treeSize !== frontier.size || head.rootHash === frontier.root().toString("hex");
  const cached = frontiers.get(db);
  let frontier = cached && cached.size <= (head?.treeSize ?? 0) ? await grow(db, cached) : undefined;
  if (!frontier || !agrees(frontier)) frontier = await grow(db, new MerkleFrontier());
  frontiers.set(db, frontier);
  return frontier;
}

async function grow(db: Kysely<DatabaseSchema>, from: MerkleFrontier): Promise<MerkleFrontier> {
  const rows = await db.selectFrom("transparency_log").select(["log_index", "leaf_hash"]).where("log_index", ">=", from.size).orderBy("log_index").execute();
  const grown = from.copy();
  for (const row of rows) {
    if (Number(row.log_index) !== grown.size) throw new AppError("storage_failed", `the transparency log has a gap at index ${grown.size}`);
    grown.append(Buffer.from(row.leaf_hash, "hex"));
  }
  return grown;
}

/**
 * Appends one leaf. `build` gets the index the leaf will have and returns its bytes and the rows to
 * write with it (in the same transaction, so a seal is never stored without its log entry).
 */
export function appendToLog<T>(
  deps: TransparencyLogDeps,
  build: (logIndex: number) => Promise<{ leaf: Uint8Array; write(trx: Transaction<DatabaseSchema>): Promise<T> }>,
): Promise<{ logIndex: number; treeHead: SignedTreeHead; written: T }> {
  const run = async () => {
    for (let attempt = 0; attempt < appendAttempts; attempt++) {
      const frontier = await currentFrontier(deps.db);
      const logIndex = frontier.size;
      const built = await build(logIndex);
      const hash = leafHash(built.leaf);
      const next = frontier.copy();
      next.append(hash);
      const treeHead = await signTreeHead(deps, logIndex + 1, next.root());
      try {
        const written = await deps.db.transaction().execute(async (trx) => {
          await trx.insertInto("transparency_log").values({ log_index: logIndex, leaf_hash: hash.toString("hex"), appended_at: treeHead.signedAt }).execute();
          await trx.insertInto("transparency_tree_heads").values({
            tree_size: treeHead.treeSize, root_hash: treeHead.rootHash, signed_at: treeHead.signedAt, key_id: treeHead.keyId, signature: treeHead.signature,
          }).execute();
          return built.write(trx);
        });
        if (frontiers.get(deps.db) === frontier) frontiers.set(deps.db, next);
        return { logIndex, treeHead, written };
      } catch (error) {
        // Another node took this index first: build again on top of its entry. Anything else is real.
        const now = await deps.db.selectFrom("transparency_log").select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirstOrThrow();
        if (Number(now.count) === logIndex) throw error;
        await new Promise((resolve) => setTimeout(resolve, attempt * 5));
      }
    }
    throw new AppError("storage_failed", "the transparency log stayed busy: the seal was not appended");
  };
  const next = appendQueue.then(run, run);
  appendQueue = next.catch(() => undefined);
  return next;
}

async function signTreeHead(deps: TransparencyLogDeps, treeSize: number, root: Buffer): Promise<SignedTreeHead> {
  const head = { treeSize, rootHash: root.toString("hex"), signedAt: new Date().toISOString() };
  const { keyId, signature } = await deps.vault.serviceKey.sign(treeHeadMessage(head));
  return { ...head, keyId, signature };
}

/** Leaf hashes in log order, the first `size` of them (all when size is undefined). */
export async function readLeafHashes(db: Kysely<DatabaseSchema>, size?: number): Promise<Buffer[]> {
  let query = db.selectFrom("transparency_log").select(["log_index", "leaf_hash"]).orderBy("log_index");
  if (size !== undefined) query = query.where("log_index", "<", size);
  const rows = await query.execute();
  return rows.map((row, position) => {
    if (Number(row.log_index) !== position) throw new AppError("storage_failed", `the transparency log has a gap at index ${position}`);
    return Buffer.from(row.leaf_hash, "hex");
  });
}

export async function latestTreeHead(db: Kysely<DatabaseSchema>): Promise<SignedTreeHead | undefined> {
  const row = await db.selectFrom("transparency_tree_heads").selectAll().orderBy("tree_size", "desc").limit(1).executeTakeFirst();
  return row && treeHeadOf(row);
}

export async function treeHeadOfSize(db: Kysely<DatabaseSchema>, treeSize: number): Promise<SignedTreeHead | undefined> {
  const row = await db.selectFrom("transparency_tree_heads").selectAll().where("tree_size", "=", treeSize).executeTakeFirst();
  return row && treeHeadOf(row);
}

export async function proveInclusion(db: Kysely<DatabaseSchema>, logIndex: number, treeSize: number): Promise<InclusionProof> {
  const leaves = await readLeafHashes(db, treeSize);
  if (leaves.length !== treeSize || logIndex >= treeSize) throw new AppError("not_found", "no such entry in a tree of that size");
  return { logIndex, treeSize, leafHash: leaves[logIndex]!.toString("hex"), path: inclusionProof(logIndex, leaves).map(toHex) };
}

export async function proveConsistency(db: Kysely<DatabaseSchema>, from: number, to: number): Promise<string[]> {
  const leaves = await readLeafHashes(db, to);
  if (leaves.length !== to || from > to) throw new AppError("not_found", "the log has no tree of that size");
  return consistencyProof(from, leaves).map(toHex);
}

export type LogAudit = { ok: boolean; treeSize: number; problems: string[] };

/**
 * Checks the whole stored log: indices without gaps, each leaf hash equal to the hash of its seal
 * record (via `leafOf`; records of erased companies cannot be read and are skipped), and every
 * tree head's signature and root. Reports every problem found.
 */
export async function auditTransparencyLog(
  deps: TransparencyLogDeps & { vault: Pick<Vault, "serviceKey"> },
  leafOf: (logIndex: number) => Promise<Uint8Array | "erased" | undefined>,
): Promise<LogAudit> {
  const problems: string[] = [];
  const publicKeys = await deps.vault.serviceKey.publicKeys();
  const heads = (await deps.db.selectFrom("transparency_tree_heads").selectAll().orderBy("tree_size").execute()).map(treeHeadOf);
  for (const head of heads) if (!verifyTreeHead(head, publicKeys)) problems.push(`tree head ${head.treeSize} has a bad signature`);
  // One pass over the entries, checking each head's root as the tree reaches its size: O(n log n), not a
  // root over every prefix (O(n²) with a head for every size).
  const headsBySize = new Map<number, SignedTreeHead[]>();
  for (const head of heads) headsBySize.set(head.treeSize, [...(headsBySize.get(head.treeSize) ?? []), head]);
  const checkHeads = (frontier: MerkleFrontier) => {
    for (const head of headsBySize.get(frontier.size) ?? []) {
      if (frontier.root().toString("hex") !== head.rootHash) problems.push(`tree head ${head.treeSize} does not match the stored entries`);
    }
  };
  const rows = await deps.db.selectFrom("transparency_log").select(["log_index", "leaf_hash"]).orderBy("log_index").execute();
  const frontier = new MerkleFrontier();
  checkHeads(frontier);
  for (const [position, row] of rows.entries()) {
    if (Number(row.log_index) !== position) problems.push(`entry ${position} is missing (next stored entry is ${row.log_index})`);
    frontier.append(Buffer.from(row.leaf_hash, "hex"));
    checkHeads(frontier);
    const leaf = await leafOf(Number(row.log_index));
    if (!leaf) problems.push(`entry ${row.log_index} has no seal record`);
    else if (leaf === "erased") continue;
    else if (!leafHash(leaf).equals(Buffer.from(row.leaf_hash, "hex"))) problems.push(`entry ${row.log_index} does not match its seal record`);
  }
  for (const head of heads) if (head.treeSize > rows.length) problems.push(`tree head ${head.treeSize} covers entries that are gone`);
  return { ok: problems.length === 0, treeSize: rows.length, problems };
}

function treeHeadOf(row: DatabaseSchema["transparency_tree_heads"]): SignedTreeHead {
  return { treeSize: Number(row.tree_size), rootHash: row.root_hash, signedAt: row.signed_at, keyId: row.key_id, signature: row.signature };
}

const toHex = (hash: Buffer) => hash.toString("hex");
const fromHex = (hash: string) => Buffer.from(hash, "hex");
