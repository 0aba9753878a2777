// Proves the Merkle tree against the recursive definition of RFC 6962 for every size up to 70: roots,
// inclusion and consistency proofs verify, and any change to a leaf, a proof step, a size or a root fails.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { consistencyProof, inclusionProof, leafHash, MerkleFrontier, nodeHash, rootOf, verifyConsistency, verifyInclusion } from "./merkle-tree.ts";

const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

// MTH straight from RFC 6962 §2.1, as the reference.
function referenceRoot(d: Buffer[]): Buffer {
  if (d.length === 0) return createHash("sha256").digest();
  if (d.length === 1) return d[0]!;
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(referenceRoot(d.slice(0, k)), referenceRoot(d.slice(k)));
}

const flip = (hash: Uint8Array) => {
  const copy = Buffer.from(hash);
  copy[0]! ^= 1;
  return copy;
};

describe("Merkle tree (RFC 6962)", () => {
  it("hashes leaves and nodes with distinct prefixes, and matches the recursive root for every size", () => {
    assert.equal(leafHash(Buffer.from("x")).toString("hex"), createHash("sha256").update(Buffer.from([0, 0x78])).digest("hex"));
    assert.notDeepEqual(leafHash(Buffer.concat([leaves[0]!, leaves[1]!])), nodeHash(leaves[0]!, leaves[1]!));
    for (let n = 0; n <= leaves.length; n++) assert.deepEqual(rootOf(leaves.slice(0, n)), referenceRoot(leaves.slice(0, n)), `size ${n}`);
  });

  it("grows a frontier whose root is the tree's root at every size, and whose copies grow apart", () => {
    const frontier = new MerkleFrontier();
    assert.deepEqual(frontier.root(), referenceRoot([]));
    for (const [index, leaf] of leaves.entries()) {
      frontier.append(leaf);
      assert.equal(frontier.size, index + 1);
      assert.deepEqual(frontier.root(), referenceRoot(leaves.slice(0, index + 1)), `size ${index + 1}`);
    }
    const branch = frontier.copy();
    branch.append(leafHash(Buffer.from("only on the branch")));
    assert.deepEqual(frontier.root(), referenceRoot(leaves));
    assert.deepEqual(branch.root(), referenceRoot([...leaves, leafHash(Buffer.from("only on the branch"))]));
  });

  it("verifies every inclusion proof of every size, and refuses altered ones", () => {
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n);
      const root = rootOf(tree);
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(m, tree);
        assert.ok(verifyInclusion(m, n, tree[m]!, proof, root), `leaf ${m} of ${n}`);
        assert.ok(!verifyInclusion(m, n, flip(tree[m]!), proof, root));
        assert.ok(!verifyInclusion(m, n, tree[m]!, proof, flip(root)));
        if (proof.length > 0) {
          assert.ok(!verifyInclusion(m, n, tree[m]!, [flip(proof[0]!), ...proof.slice(1)], root));
          assert.ok(!verifyInclusion(m, n, tree[m]!, proof.slice(1), root));
        }
        if (n > 1) assert.ok(!verifyInclusion((m + 1) % n, n, tree[m]!, proof, root));
        // A tree head binds size and root: the proof for size n does not verify against the head of n + 1.
        if (n < leaves.length) assert.ok(!verifyInclusion(m, n + 1, tree[m]!, proof, rootOf(leaves.slice(0, n + 1))));
      }
    }
    assert.ok(!verifyInclusion(3, 3, leaves[0]!, [], rootOf(leaves.slice(0, 3))));
    assert.throws(() => inclusionProof(5, leaves.slice(0, 5)), RangeError);
  });

  it("verifies every consistency proof between every pair of sizes, and refuses altered ones", () => {
    for (let n = 1; n <= 40; n++) {
      const second = rootOf(leaves.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const first = rootOf(leaves.slice(0, m));
        const proof = consistencyProof(m, leaves.slice(0, n));
        assert.ok(verifyConsistency(m, n, first, second, proof), `${m} → ${n}`);
        assert.ok(!verifyConsistency(m, n, flip(first), second, proof));
        if (m < n) {
          assert.ok(!verifyConsistency(m, n, first, flip(second), proof));
          assert.ok(!verifyConsistency(m, n, first, second, [flip(proof[0]!), ...proof.slice(1)]));
          assert.ok(!verifyConsistency(m, n, first, second, proof.slice(0, -1)));
          assert.ok(!verifyConsistency(n, m, second, first, proof));
        }
      }
    }
    assert.ok(verifyConsistency(0, 5, createHash("sha256").digest(), rootOf(leaves.slice(0, 5)), []));
  });

  it("refuses a history in which an old entry was removed or replaced, even with a correct new root", () => {
    const old = leaves.slice(0, 10);
    const oldRoot = rootOf(old);
    const removed = [...leaves.slice(0, 3), ...leaves.slice(4, 16)];
    assert.ok(!verifyConsistency(10, removed.length, oldRoot, rootOf(removed), consistencyProof(10, removed)));
    const replaced = leaves.slice(0, 16).map((leaf, i) => (i === 6 ? leafHash(Buffer.from("forged")) : leaf));
    assert.ok(!verifyConsistency(10, 16, oldRoot, rootOf(replaced), consistencyProof(10, replaced)));
    const honest = leaves.slice(0, 16);
    assert.ok(verifyConsistency(10, 16, oldRoot, rootOf(honest), consistencyProof(10, honest)));
  });
});
