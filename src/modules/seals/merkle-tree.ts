// RFC 6962 / RFC 9162 Merkle tree hashing, audit (inclusion) paths and consistency proofs, and their
// verifiers. Pure functions over leaf hashes; SHA-256 from node:crypto, nothing else.
import { createHash } from "node:crypto";

export function leafHash(leaf: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([0])).update(leaf).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([1])).update(left).update(right).digest();
}

/** The largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes; the empty tree's root is SHA-256 of nothing. */
export function rootOf(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash("sha256").digest();
  // Bottom-up: pair neighbours, carry an odd last node up unchanged; equals the recursive definition.
  let level = leaves.slice();
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/**
 * The right edge of a tree as it grows: the roots of its perfect subtrees, largest first (n leaves
 * split into powers of two, as MTH(D[n]) splits them). Appending a leaf and computing the root each
 * take O(log n), so a log need not rehash every leaf for every new entry.
 */
export class MerkleFrontier {
  private nodes: { size: number; hash: Buffer }[] = [];
  size = 0;

  append(leaf: Buffer): void {
    let node = { size: 1, hash: leaf };
    for (let top = this.nodes.at(-1); top !== undefined && top.size === node.size; top = this.nodes.at(-1)) {
      this.nodes.pop();
      node = { size: top.size * 2, hash: nodeHash(top.hash, node.hash) };
    }
    this.nodes.push(node);
    this.size += 1;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return createHash("sha256").digest();
    let hash = this.nodes.at(-1)!.hash;
    for (let index = this.nodes.length - 2; index >= 0; index--) hash = nodeHash(this.nodes[index]!.hash, hash);
    return hash;
  }

  copy(): MerkleFrontier {
    const copy = new MerkleFrontier();
    copy.nodes = this.nodes.slice();
    copy.size = this.size;
    return copy;
  }
}

/** PATH(m, D[n]): the audit path of leaf m in the tree of these leaves. */
export function inclusionProof(index: number, leaves: readonly Buffer[]): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError("leaf index outside the tree");
  const path = (m: number, d: readonly Buffer[]): Buffer[] => {
    if (d.length <= 1) return [];
    const k = splitPoint(d.length);
    return m < k ? [...path(m, d.slice(0, k)), rootOf(d.slice(k))] : [...path(m - k, d.slice(k)), rootOf(d.slice(0, k))];
  };
  return path(index, leaves);
}

/** PROOF(m, D[n]): that the first m leaves' tree is a prefix of this one. */
export function consistencyProof(first: number, leaves: readonly Buffer[]): Buffer[] {
  if (!Number.isInteger(first) || first < 0 || first > leaves.length) throw new RangeError("tree size outside the tree");
  if (first === 0 || first === leaves.length) return [];
  const subproof = (m: number, d: readonly Buffer[], complete: boolean): Buffer[] => {
    if (m === d.length) return complete ? [] : [rootOf(d)];
    const k = splitPoint(d.length);
    return m <= k
      ? [...subproof(m, d.slice(0, k), complete), rootOf(d.slice(k))]
      : [...subproof(m - k, d.slice(k), false), rootOf(d.slice(0, k))];
  };
  return subproof(first, leaves, true);
}

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(index: number, treeSize: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  let fn = BigInt(index);
  let sn = BigInt(treeSize - 1);
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(Buffer.from(root));
}

/** RFC 9162 §2.1.4.2. */
export function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(Buffer.from(secondRoot));
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = BigInt(first - 1);
  let sn = BigInt(second - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return fr.equals(Buffer.from(firstRoot)) && sr.equals(Buffer.from(secondRoot)) && sn === 0n;
}
