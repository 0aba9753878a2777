// Proves how the index is written, on SQLite and PostgreSQL: one hash per distinct token, one recency
// per document, replacement rather than accumulation (also under concurrent re-indexing), no rows for
// documents that do not exist, work inside a caller's transaction, and removal with the document.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../../test/support/databases.ts";
import { createVault, type Vault } from "../../vault/vault.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { indexDocument, indexDocuments, removeFromIndex, searchTokenHash, tokensOfDocument } from "./search-index.ts";

const tenantId = "tenant-index";
const changedAt = "2031-02-03T04:05:06.789Z";

for (const kind of databaseKinds) {
  describe(`search index writes (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    const db = () => test.database.db;
    const rowsOf = (documentId: string) => db().selectFrom("search_tokens").selectAll().where("tenant_id", "=", tenantId).where("document_id", "=", documentId).execute();
    const hashesOf = (document: { title: string; text?: string }) => new Set([...tokensOfDocument(document)].map((token) => searchTokenHash(vault, tenantId, token)));

    before(async () => {
      test = await openTestDatabase(kind);
      vault = createVault(createVaultRepository(db()));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      await db().insertInto("documents").values(["doc-a", "doc-b", "doc-c"].map((id) => ({
        tenant_id: tenantId, id, folder_id: null, kind: "page" as const, title_ciphertext: Buffer.from([0]), current_version: 1,
        created_by: "u", created_at: changedAt, updated_at: changedAt, deleted_at: null,
      }))).execute();
    });
    after(() => test.cleanup());

    it("writes one row per distinct token, all with the document's recency, and replaces them on the next call", async () => {
      const first = { title: "Quarterly plan", text: "plan the plan; planning ahead" };
      await indexDocument(db(), vault, tenantId, "doc-a", first);
      const rows = await rowsOf("doc-a");
      assert.deepEqual(new Set(rows.map((row) => row.token_hash)), hashesOf(first));
      assert.equal(rows.length, hashesOf(first).size);
      assert.deepEqual(new Set(rows.map((row) => Number(row.recency))), new Set([Date.parse(changedAt)]));
      await indexDocument(db(), vault, tenantId, "doc-a", { title: "Renamed" });
      assert.deepEqual(new Set((await rowsOf("doc-a")).map((row) => row.token_hash)), hashesOf({ title: "Renamed" }));
    });

    it("keeps one consistent set of rows when one document is re-indexed many times at once", async () => {
      const versions = Array.from({ length: 12 }, (_, i) => ({ title: `Version ${i} shared words`, text: `unique${i} body text ${"word ".repeat(i)}` }));
      await Promise.all(versions.map((version) => indexDocument(db(), vault, tenantId, "doc-b", version)));
      const stored = new Set((await rowsOf("doc-b")).map((row) => row.token_hash));
      assert.ok(versions.some((version) => {
        const expected = hashesOf(version);
        return expected.size === stored.size && [...expected].every((hash) => stored.has(hash));
      }), "the rows are exactly one version's tokens");
    });

    it("indexes many documents in one call, leaves out documents that do not exist, and works inside a caller's transaction", async () => {
      const written = await db().transaction().execute((trx) => indexDocuments(trx, vault, tenantId, [
        { documentId: "doc-c", title: "Third" },
        { documentId: "no-such-document", title: "Ghost" },
      ]));
      assert.equal(written, hashesOf({ title: "Third" }).size);
      assert.equal((await rowsOf("no-such-document")).length, 0);
      assert.equal(await indexDocuments(db(), vault, tenantId, []), 0);
    });

    it("removes a document's rows on request, and with the document itself", async () => {
      await removeFromIndex(db(), tenantId, "doc-c");
      assert.equal((await rowsOf("doc-c")).length, 0);
      assert.ok((await rowsOf("doc-a")).length > 0);
      await db().deleteFrom("documents").where("tenant_id", "=", tenantId).where("id", "=", "doc-a").execute();
      assert.equal((await rowsOf("doc-a")).length, 0, "ON DELETE CASCADE");
    });
  });
}
