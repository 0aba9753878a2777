import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../test/support/databases.ts";
import { createVault, type Vault } from "./vault.ts";
import { createVaultRepository } from "./vault-repository.ts";

for (const kind of databaseKinds) {
  describe(`vault seal state (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let shares: string[];
    const open = () => createVault(createVaultRepository(test.database.db));

    before(async () => {
      test = await openTestDatabase(kind);
      vault = open();
      ({ shares } = await vault.initialize(5, 3));
    });
    after(() => test.cleanup());

    it("starts sealed and refuses a second initialisation", async () => {
      const status = await vault.status();
      assert.deepEqual([status.initialized, status.sealed, status.threshold, status.shares, status.progress], [true, true, 3, 5, 0]);
      await assert.rejects(vault.initialize(5, 3), { code: "already_initialized" });
      await assert.rejects(open().initialize(1, 1), { code: "already_initialized" });
      await assert.rejects(vault.tenantKeys.takeKeyForSealing("tenant-a"), { code: "sealed" });
    });

    it("stays sealed with two shares and unseals with the third", async () => {
      assert.equal((await vault.submitShare(shares[0]!)).progress, 1);
      const second = await vault.submitShare(shares[3]!);
      assert.deepEqual([second.sealed, second.progress], [true, 2]);
      const third = await vault.submitShare(shares[4]!);
      assert.deepEqual([third.sealed, third.progress], [false, 0]);
    });

    it("refuses a repeated share and keeps the progress", async () => {
      const node = open();
      await node.submitShare(shares[1]!);
      await assert.rejects(node.submitShare(shares[1]!), { code: "share_repeated" });
      const status = await node.status();
      assert.deepEqual([status.sealed, status.progress], [true, 1]);
      assert.equal(node.resetUnseal().progress, 0);
    });

    it("refuses a wrong share at the threshold, leaves the node sealed and resets progress", async () => {
      const other = await openTestDatabase("sqlite");
      try {
        // A share of the right format for this installation, from a different split: only the AEAD check can tell.
        const impostor = createVault(createVaultRepository(other.database.db));
        const foreign = (await impostor.initialize(5, 3)).shares;
        const relabelled = foreign[2]!.replace(/^srs1-[0-9a-f]{8}/, shares[0]!.slice(0, 13));
        const node = open();
        await node.submitShare(shares[0]!);
        await node.submitShare(shares[1]!);
        await assert.rejects(node.submitShare(fixChecksum(relabelled)), { code: "unseal_failed" });
        const status = await node.status();
        assert.deepEqual([status.sealed, status.progress], [true, 0]);
        // Shares of another installation are named as such at once.
        await assert.rejects(node.submitShare(foreign[0]!), { code: "share_foreign_installation" });
      } finally {
        await other.cleanup();
      }
    });

    it("rekey makes new shares that unseal, and the old shares stop working", async () => {
      const staleNode = open();
      await staleNode.status();
      const { shares: fresh } = await vault.rekey([shares[0]!, shares[2]!, shares[4]!], 3, 2);
      assert.equal(fresh.length, 3);
      // A node that read the seal configuration before the rekey must not accept the old shares either.
      await staleNode.submitShare(shares[1]!);
      await assert.rejects(staleNode.submitShare(shares[3]!), { code: "unseal_failed" });
      assert.equal((await staleNode.status()).sealed, true);
      const oldSet = open();
      await oldSet.submitShare(shares[0]!);
      await assert.rejects(oldSet.submitShare(shares[2]!), { code: "unseal_failed" });
      const newSet = open();
      await newSet.submitShare(fresh[0]!);
      assert.equal((await newSet.submitShare(fresh[2]!)).sealed, false);
      await assert.rejects(vault.rekey([fresh[0]!], 3, 2), { code: "bad_request" });
      shares = fresh;
    });

    it("rotate adds a keyring term; keys from older terms still open, on this node and others", async () => {
      const context = { tenantId: "tenant-rotate", objectType: "page", objectId: "p1", objectVersion: 1 };
      const sealedBefore = await vault.data.sealString(context, "written before the rotation");
      const before = await vault.tenantKeys.takeKeyForSealing("tenant-rotate");
      const beforeBytes = Buffer.from(before.key);
      const { term } = await vault.rotate();
      assert.equal(await vault.data.openString(context, sealedBefore), "written before the rotation");
      assert.equal(term, 2);
      const after = await vault.tenantKeys.takeKeyForSealing("tenant-rotate");
      assert.equal(after.version, before.version + 1, "a new tenant key version under the new term");
      assert.deepEqual((await vault.tenantKeys.keyForOpening("tenant-rotate", before.version)).key, beforeBytes);
      const other = open();
      await other.submitShare(shares[0]!);
      await other.submitShare(shares[1]!);
      assert.deepEqual((await other.tenantKeys.keyForOpening("tenant-rotate", before.version)).key, beforeBytes);
      assert.equal((await other.status()).keyringTerm, 2);
      assert.equal(await other.data.openString(context, sealedBefore), "written before the rotation");
      const sealedAfter = await other.data.sealString(context, "written after");
      assert.equal(await vault.data.openString(context, sealedAfter), "written after");
    });

    it("rotates a tenant key automatically before its use limit", async () => {
      const limited = createVault(createVaultRepository(test.database.db), { tenantKeyLimits: { usesPerKey: 10, reserveBlock: 4 } });
      await limited.submitShare(shares[0]!);
      await limited.submitShare(shares[1]!);
      const versions: number[] = [];
      for (let use = 0; use < 25; use++) versions.push((await limited.tenantKeys.takeKeyForSealing("tenant-limit")).version);
      // 10 uses allow two blocks of 4 per version: 8 uses, then a new version.
      assert.deepEqual(versions.slice(0, 9), [1, 1, 1, 1, 1, 1, 1, 1, 2]);
      assert.equal(versions[24], 4);
      const counts = new Map<number, number>();
      for (const version of versions) counts.set(version, (counts.get(version) ?? 0) + 1);
      for (const count of counts.values()) assert.ok(count <= 10);
    });

    it("seal forgets every key and refuses work until unsealed again", async () => {
      const kek = await vault.tenantKeys.takeKeyForSealing("tenant-seal");
      await vault.seal();
      assert.ok(kek.key.every((byte) => byte === 0), "key bytes are zeroed on seal");
      assert.equal((await vault.status()).sealed, true);
      await assert.rejects(vault.tenantKeys.keyForOpening("tenant-seal", kek.version), { code: "sealed" });
      await vault.submitShare(shares[0]!);
      await vault.submitShare(shares[1]!);
      assert.equal((await vault.tenantKeys.keyForOpening("tenant-seal", kek.version)).version, kek.version);
    });

    it("crypto-shredding: destroyed tenant keys cannot be opened, other tenants are untouched", async () => {
      const doomed = await vault.tenantKeys.takeKeyForSealing("tenant-doomed");
      const kept = await vault.tenantKeys.takeKeyForSealing("tenant-kept");
      assert.ok((await vault.tenantKeys.destroy("tenant-doomed")) >= 1);
      await assert.rejects(vault.tenantKeys.keyForOpening("tenant-doomed", doomed.version), { code: "key_not_found" });
      assert.equal((await open().status()).initialized, true);
      assert.equal((await vault.tenantKeys.keyForOpening("tenant-kept", kept.version)).tenantId, "tenant-kept");
    });

    it("a tenant key row moved to another tenant fails to open", async () => {
      const a = await vault.tenantKeys.takeKeyForSealing("tenant-move-a");
      await vault.tenantKeys.takeKeyForSealing("tenant-move-b");
      const stolen = await test.database.db.selectFrom("tenant_keys").select("wrapped_key")
        .where("tenant_id", "=", "tenant-move-a").where("version", "=", a.version).executeTakeFirstOrThrow();
      await test.database.db.updateTable("tenant_keys").set({ wrapped_key: stolen.wrapped_key })
        .where("tenant_id", "=", "tenant-move-b").execute();
      const fresh = open();
      await fresh.submitShare(shares[0]!);
      await fresh.submitShare(shares[1]!);
      await assert.rejects(fresh.tenantKeys.keyForOpening("tenant-move-b", 1), { code: "decrypt_failed" });
    });
  });
}

// Recomputes a share's checksum after relabelling, as an attacker could: only the AEAD check remains.
function fixChecksum(share: string): string {
  const [prefix, tag, body] = share.split("-");
  return `${prefix}-${tag}-${body}-${checksumHex(tag!, Buffer.from(body!, "hex"))}`;
}

import { createHash } from "node:crypto";
function checksumHex(tag: string, bytes: Buffer): string {
  return createHash("sha256").update(tag).update(bytes).digest().subarray(0, 4).toString("hex");
}
