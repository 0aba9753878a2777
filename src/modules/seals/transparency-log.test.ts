// Proves the stored transparency log on SQLite and PostgreSQL: signed tree heads for every size,
// inclusion and consistency proofs that verify, and an audit (and a verifier holding an old tree
// head) that catches an entry removed, altered, or rewritten with freshly signed heads.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql, type Kysely } from "kysely";
import { openDatabase } from "../../store/database.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import { appendOnlyTables } from "../../store/migrations/012-seals.ts";
import { databaseKinds, openTestDatabase, skipReason, unsealedVault, type TestDatabase } from "../../../test/support/databases.ts";
import type { Vault } from "../../vault/vault.ts";
import { leafHash, rootOf } from "./merkle-tree.ts";
import {
  appendToLog, auditTransparencyLog, latestTreeHead, proveConsistency, proveInclusion, treeHeadMessage, treeHeadOfSize,
  verifyConsistencyProof, verifyInclusionProof, verifyTreeHead, type SignedTreeHead,
} from "./transparency-log.ts";

for (const kind of databaseKinds) {
  describe(`transparency log (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    const leaves = new Map<number, Buffer>();
    const db = () => test.database.db;
    const deps = () => ({ db: db(), vault });
    const leafOf = async (index: number) => leaves.get(index);
    const append = (text: string) => appendToLog(deps(), async (logIndex) => {
      const leaf = Buffer.from(`${text} at ${logIndex}`);
      leaves.set(logIndex, leaf);
      return { leaf, write: async () => logIndex };
    });

    before(async () => {
      test = await openTestDatabase(kind);
      ({ vault } = await unsealedVault(test.database));
    });
    after(() => test.cleanup());

    it("appends entries in order, each with a signed tree head of its size", async () => {
      for (let i = 0; i < 20; i++) {
        const { logIndex, treeHead, written } = await append(`seal ${i}`);
        assert.deepEqual([logIndex, written, treeHead.treeSize], [i, i, i + 1]);
      }
      // Concurrent appends still get distinct positions.
      const concurrent = await Promise.all(Array.from({ length: 13 }, (_, i) => append(`burst ${i}`)));
      assert.deepEqual(concurrent.map((item) => item.logIndex).sort((a, b) => a - b), Array.from({ length: 13 }, (_, i) => 20 + i));
      const publicKeys = await vault.serviceKey.publicKeys();
      const head = (await latestTreeHead(db()))!;
      assert.equal(head.treeSize, 33);
      assert.ok(verifyTreeHead(head, publicKeys));
      assert.ok(!verifyTreeHead({ ...head, treeSize: 32 }, publicKeys));
      assert.ok(!verifyTreeHead({ ...head, signedAt: "2020-01-01T00:00:00.000Z" }, publicKeys));
      assert.ok(!verifyTreeHead({ ...head, keyId: "sk_unknown" }, publicKeys));
      assert.equal(treeHeadMessage(head).toString(), `{"format":"strongroom-tree-head/v1","rootHash":"${head.rootHash}","signedAt":"${head.signedAt}","treeSize":33}`);
    });

    it("proves every entry's inclusion in every stored tree head", async () => {
      const latest = (await latestTreeHead(db()))!;
      for (let size = 1; size <= latest.treeSize; size++) {
        const head = (await treeHeadOfSize(db(), size))!;
        for (const index of new Set([0, Math.floor(size / 2), size - 1])) {
          const proof = await proveInclusion(db(), index, size);
          assert.ok(verifyInclusionProof(leaves.get(index)!, proof, head), `entry ${index} in ${size}`);
          assert.ok(!verifyInclusionProof(Buffer.from("something else"), proof, head));
        }
      }
      await assert.rejects(proveInclusion(db(), 40, 33), { code: "not_found" });
    });

    it("proves consistency between every pair of stored tree heads", async () => {
      const latest = (await latestTreeHead(db()))!;
      for (let from = 1; from <= latest.treeSize; from += 4) {
        const older = (await treeHeadOfSize(db(), from))!;
        for (const to of [from, from + 1, latest.treeSize]) {
          if (to > latest.treeSize) continue;
          const newer = (await treeHeadOfSize(db(), to))!;
          assert.ok(verifyConsistencyProof(older, newer, await proveConsistency(db(), from, to)), `${from} → ${to}`);
        }
      }
      await assert.rejects(proveConsistency(db(), 2, 99), { code: "not_found" });
    });

    it("is append-only in the database: updates and deletes are refused", async () => {
      await assert.rejects(db().updateTable("transparency_log").set({ leaf_hash: "00".repeat(32) }).where("log_index", "=", 1).execute(), /append-only/);
      await assert.rejects(db().deleteFrom("transparency_log").where("log_index", "=", 1).execute(), /append-only/);
      await assert.rejects(db().updateTable("transparency_tree_heads").set({ root_hash: "00".repeat(32) }).where("tree_size", "=", 1).execute(), /append-only/);
      await assert.rejects(db().deleteFrom("transparency_tree_heads").execute(), /append-only/);
      assert.deepEqual(await auditTransparencyLog(deps(), leafOf), { ok: true, treeSize: 33, problems: [] });
    });

    it("audits clean, then catches an altered entry, a removed entry and history rewritten under new signatures", async () => {
      assert.deepEqual(await auditTransparencyLog(deps(), leafOf), { ok: true, treeSize: 33, problems: [] });
      const keptHead = (await latestTreeHead(db()))!;
      // From here on the attacker has the database to themselves and removes the append-only guard.
      for (const table of appendOnlyTables) {
        const statements = kind === "sqlite"
          ? [`DROP TRIGGER ${table}_no_update`, `DROP TRIGGER ${table}_no_delete`]
          : [`DROP TRIGGER ${table}_append_only ON ${table}`];
        for (const statement of statements) await sql.raw(statement).execute(db());
      }

      // An entry's record changed after the fact: its leaf no longer matches.
      const original = leaves.get(5)!;
      leaves.set(5, Buffer.from("back-dated record"));
      const altered = await auditTransparencyLog(deps(), leafOf);
      assert.equal(altered.ok, false);
      assert.deepEqual(altered.problems, ["entry 5 does not match its seal record"]);
      leaves.set(5, original);

      // The stored leaf hash changed too: every tree head from size 6 on no longer matches.
      const row = await db().selectFrom("transparency_log").selectAll().where("log_index", "=", 5).executeTakeFirstOrThrow();
      await db().updateTable("transparency_log").set({ leaf_hash: leafHash(Buffer.from("back-dated record")).toString("hex") }).where("log_index", "=", 5).execute();
      const rehashed = await auditTransparencyLog(deps(), async (index) => (index === 5 ? Buffer.from("back-dated record") : leaves.get(index)));
      assert.equal(rehashed.ok, false);
      assert.ok(rehashed.problems.includes("tree head 6 does not match the stored entries"));
      assert.ok(!rehashed.problems.some((problem) => problem.startsWith("tree head 5 ")));
      await db().updateTable("transparency_log").set({ leaf_hash: row.leaf_hash }).where("log_index", "=", 5).execute();

      // An entry removed: a gap, and tree heads that cover it fail.
      await db().deleteFrom("transparency_log").where("log_index", "=", 7).execute();
      const removed = await auditTransparencyLog(deps(), leafOf);
      assert.equal(removed.ok, false);
      assert.ok(removed.problems.includes("entry 7 is missing (next stored entry is 8)"));
      await assert.rejects(proveInclusion(db(), 3, 33), { code: "storage_failed" });

      // The operator (who holds the key) rewrites history without entry 7 and re-signs every head:
      // the audit passes, but a verifier who kept an older head gets no consistency proof that holds.
      const remaining = await db().selectFrom("transparency_log").selectAll().orderBy("log_index").execute();
      await db().deleteFrom("transparency_log").execute();
      await db().deleteFrom("transparency_tree_heads").execute();
      const rewritten = remaining.map((entry, position) => ({ ...entry, log_index: position }));
      await db().insertInto("transparency_log").values(rewritten).execute();
      const hashes = rewritten.map((entry) => Buffer.from(entry.leaf_hash, "hex"));
      for (let size = 1; size <= hashes.length; size++) {
        const head = { treeSize: size, rootHash: rootOf(hashes.slice(0, size)).toString("hex"), signedAt: new Date().toISOString() };
        const signed = await vault.serviceKey.sign(treeHeadMessage(head));
        await db().insertInto("transparency_tree_heads").values({ tree_size: size, root_hash: head.rootHash, signed_at: head.signedAt, key_id: signed.keyId, signature: signed.signature }).execute();
      }
      const shifted = new Map([...leaves].filter(([index]) => index !== 7).map(([index, leaf]) => [index > 7 ? index - 1 : index, leaf]));
      assert.equal((await auditTransparencyLog(deps(), async (index) => shifted.get(index))).ok, true);
      const newHead: SignedTreeHead = (await latestTreeHead(db()))!;
      const olderSize = 20;
      const olderKept = { treeSize: olderSize, rootHash: rootOf([...leaves.entries()].filter(([index]) => index < olderSize).map(([, leaf]) => leafHash(leaf))).toString("hex") };
      assert.ok(!verifyConsistencyProof(olderKept, newHead, await proveConsistency(db(), olderSize, newHead.treeSize)));
      assert.ok(!verifyConsistencyProof(keptHead, newHead, await proveConsistency(db(), Math.min(keptHead.treeSize, newHead.treeSize), newHead.treeSize)));
    });
  });
}

for (const kind of databaseKinds) {
  describe(`transparency log across nodes (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    before(async () => {
      test = await openTestDatabase(kind);
      ({ vault } = await unsealedVault(test.database));
    });
    after(() => test.cleanup());

    it("an append builds on entries another node added meanwhile, and a log rolled back under it is read again", async () => {
      const other = await openDatabase(test.config);
      const hashes: Buffer[] = [];
      const appendVia = (db: Kysely<DatabaseSchema>, text: string) => appendToLog({ db, vault }, async (logIndex) => {
        const leaf = Buffer.from(`${text} at ${logIndex}`);
        hashes[logIndex] = leafHash(leaf);
        return { leaf, write: async () => logIndex };
      });
      try {
        for (let i = 0; i < 5; i++) await appendVia(test.database.db, `here ${i}`);
        for (let i = 0; i < 3; i++) await appendVia(other.db, `there ${i}`);
        const { logIndex, treeHead } = await appendVia(test.database.db, "here again");
        assert.equal(logIndex, 8);
        assert.equal(treeHead.rootHash, rootOf(hashes).toString("hex"));
        assert.deepEqual(await auditTransparencyLog({ db: test.database.db, vault }, async () => "erased"), { ok: true, treeSize: 9, problems: [] });

        // The newest entries vanish (a database restored from an earlier copy): the next append takes
        // the freed index over the entries that are really there, not over the ones this node remembers.
        for (const table of appendOnlyTables) {
          const statements = kind === "sqlite" ? [`DROP TRIGGER ${table}_no_delete`] : [`DROP TRIGGER ${table}_append_only ON ${table}`];
          for (const statement of statements) await sql.raw(statement).execute(test.database.db);
        }
        await test.database.db.deleteFrom("transparency_log").where("log_index", ">=", 6).execute();
        await test.database.db.deleteFrom("transparency_tree_heads").where("tree_size", ">", 6).execute();
        hashes.length = 6;
        const after = await appendVia(test.database.db, "after the restore");
        assert.equal(after.logIndex, 6);
        assert.equal(after.treeHead.rootHash, rootOf(hashes).toString("hex"));
      } finally {
        await other.close();
      }
    });
  });
}
