// Crypto-shredding at the storage level, on SQLite and PostgreSQL: destroying a key owner makes its
// data unreadable on the live database, and a copy taken BEFORE the erasure (an older backup),
// restored into a fresh database with the same shares, cannot open it either once the shred list is
// applied, while every other company's data opens byte for byte.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { copyTestDatabase } from "../../test/support/database-copy.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../test/support/databases.ts";
import { createVault, type Vault } from "./vault.ts";
import { createVaultRepository } from "./vault-repository.ts";

const context = (tenantId: string) => ({ tenantId, objectType: "document_content", objectId: "doc-1", objectVersion: 1 });

for (const kind of databaseKinds) {
  describe(`crypto-shredding across an older copy (${kind})`, { skip: await skipReason(kind) }, () => {
    let live: TestDatabase;
    let restored: TestDatabase | undefined;
    let vault: Vault;
    let shares: string[];
    const sealed = new Map<string, Buffer>();
    const plain = (owner: string) => Buffer.from(`secret content of ${owner}`);

    before(async () => {
      live = await openTestDatabase(kind);
      vault = createVault(createVaultRepository(live.database.db));
      ({ shares } = await vault.initialize(3, 2));
      await vault.submitShare(shares[0]!);
      await vault.submitShare(shares[1]!);
      for (const owner of ["tenant-erased", "tenant-kept", "user:erased-person"]) {
        sealed.set(owner, await vault.data.sealBytes(context(owner), plain(owner)));
      }
    });
    after(async () => {
      await restored?.cleanup();
      await live?.cleanup();
    });

    it("erasure destroys the keys on the live database and no fresh key is ever made for the erased owner", async () => {
      restored = await copyTestDatabase(live);
      assert.ok((await vault.tenantKeys.destroy("tenant-erased")) >= 1);
      assert.ok((await vault.tenantKeys.destroy("user:erased-person")) >= 1);
      await assert.rejects(vault.data.openBytes(context("tenant-erased"), sealed.get("tenant-erased")!), { code: "key_not_found" });
      await assert.rejects(vault.data.openBytes(context("user:erased-person"), sealed.get("user:erased-person")!), { code: "key_not_found" });
      await assert.rejects(vault.data.sealBytes(context("tenant-erased"), Buffer.from("new")), { code: "key_not_found" });
      assert.deepEqual(await vault.data.openBytes(context("tenant-kept"), sealed.get("tenant-kept")!), plain("tenant-kept"));
      assert.deepEqual((await vault.tenantKeys.shredList()).map((entry) => entry.keyOwner).sort(), ["tenant-erased", "user:erased-person"]);
      // A fresh node on the live database (no cache) cannot open it either.
      const other = createVault(createVaultRepository(live.database.db));
      await other.submitShare(shares[1]!);
      await other.submitShare(shares[2]!);
      await assert.rejects(other.data.openBytes(context("tenant-erased"), sealed.get("tenant-erased")!), { code: "key_not_found" });
    });

    it("a copy taken before the erasure, restored with the shred list applied, opens the others' data and not the erased", async () => {
      const node = createVault(createVaultRepository(restored!.database.db));
      await node.submitShare(shares[0]!);
      await node.submitShare(shares[2]!);
      // What the copy holds on its own: the erased owner's wrapped keys, openable with the shares.
      // This is why every restore applies the shred list (see "Erasure" in docs/architecture.md).
      assert.deepEqual(await node.data.openBytes(context("tenant-erased"), sealed.get("tenant-erased")!), plain("tenant-erased"));
      assert.deepEqual(await node.tenantKeys.shredList(), []);

      assert.ok((await node.tenantKeys.applyShredList(await vault.tenantKeys.shredList())) >= 2);
      const fresh = createVault(createVaultRepository(restored!.database.db));
      await fresh.submitShare(shares[0]!);
      await fresh.submitShare(shares[1]!);
      for (const erased of ["tenant-erased", "user:erased-person"]) {
        await assert.rejects(fresh.data.openBytes(context(erased), sealed.get(erased)!), { code: "key_not_found" });
        await assert.rejects(node.data.openBytes(context(erased), sealed.get(erased)!), { code: "key_not_found" });
      }
      assert.deepEqual(await fresh.data.openBytes(context("tenant-kept"), sealed.get("tenant-kept")!), plain("tenant-kept"));
      const rows = await restored!.database.db.selectFrom("tenant_keys").select("tenant_id").distinct().execute();
      assert.deepEqual(rows.map((row) => row.tenant_id), ["tenant-kept"]);
      // Applying it twice changes nothing.
      assert.equal(await fresh.tenantKeys.applyShredList(await vault.tenantKeys.shredList()), 0);
    });
  });
}
