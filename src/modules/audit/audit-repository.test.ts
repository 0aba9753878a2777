// Two writers on one chain (two nodes on PostgreSQL; the server's writer thread and a CLI command on
// the event loop on SQLite) never fork it, and a failed batch leaves nothing behind.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { databaseKinds, openTestDatabase, skipReason, unsealedVault, type TestDatabase } from "../../../test/support/databases.ts";
import type { Vault } from "../../vault/vault.ts";
import type { AuditEntry } from "./audit-record.ts";
import { createAuditRepository } from "./audit-repository.ts";
import { verifyAuditChains } from "./verify-audit-chain.ts";

const entry = (tenantId: string, action: string): AuditEntry => ({
  id: randomUUID(), at: new Date().toISOString(), tenantId, actorType: "system", actorId: null, ip: "127.0.0.1", action, object: {}, requestId: null,
});
const ok = { result: "ok" as const, status: 200, errorCode: null, subjectId: null, details: {} };

for (const kind of databaseKinds) {
  describe(`audit repository (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    before(async () => {
      test = await openTestDatabase(kind);
      ({ vault } = await unsealedVault(test.database));
    });
    after(() => test.cleanup());

    // On SQLite the first writes on its own thread and the second on the event loop, as a CLI would.
    const twoWriters = () => [
      createAuditRepository(test.database.db, vault, { sqliteFile: test.database.file }),
      createAuditRepository(test.database.db, vault),
    ];

    it("two writers appending to one chain at once leave one unbroken chain", async () => {
      const tenantId = `t-${randomUUID()}`;
      const [first, second] = twoWriters();
      const appended = await Promise.all(Array.from({ length: 120 }, (_, index) => (index % 2 === 0 ? first! : second!).append(entry(tenantId, `write ${index}`), ok)));
      assert.deepEqual(appended.map((record) => record.seq).sort((a, b) => a - b), Array.from({ length: 120 }, (_, index) => index + 1));
      const [report] = await verifyAuditChains(test.database.db, vault, tenantId);
      assert.deepEqual(report!.problems, []);
      assert.equal(report!.records, 120);
    });

    it("a write that appends a pending record and completes it later keeps the chain intact", async () => {
      const tenantId = `t-${randomUUID()}`;
      const [repository] = twoWriters();
      const pending = await repository!.append(entry(tenantId, "POST /v1/things"));
      const row = await test.database.db.selectFrom("audit_records").select("result").where("chain_id", "=", tenantId).where("seq", "=", pending.seq).executeTakeFirstOrThrow();
      assert.equal(row.result, "pending");
      await repository!.finish(pending.chainId, pending.seq, pending.recordHash, { ...ok, status: 201 });
      await assert.rejects(repository!.finish(pending.chainId, pending.seq, pending.recordHash, ok), (error: Error & { code?: string }) => error.code === "storage_failed", "a record is completed once");
      const [report] = await verifyAuditChains(test.database.db, vault, tenantId);
      assert.deepEqual(report!.problems, []);
    });

    it("a batch the database refuses is refused whole, and the chain goes on once it accepts again", async () => {
      const tenantId = `t-${randomUUID()}`;
      const [repository] = twoWriters();
      await repository!.append(entry(tenantId, "before"), ok);
      const block = kind === "sqlite"
        ? [sql`CREATE TRIGGER audit_repository_block BEFORE INSERT ON audit_records WHEN NEW.action = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`]
        : [sql`CREATE FUNCTION audit_repository_block() RETURNS trigger AS $$ BEGIN IF NEW.action = 'refused' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
          sql`CREATE TRIGGER audit_repository_block BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_repository_block()`];
      for (const statement of block) await statement.execute(test.database.db);
      try {
        const results = await Promise.allSettled([repository!.append(entry(tenantId, "same batch"), ok), repository!.append(entry(tenantId, "refused"), ok)]);
        assert.deepEqual(results.map((result) => result.status), ["rejected", "rejected"], "both records of the batch are refused");
      } finally {
        await sql`DROP TRIGGER audit_repository_block${kind === "postgres" ? sql` ON audit_records` : sql``}`.execute(test.database.db);
      }
      const after = await repository!.append(entry(tenantId, "after"), ok);
      assert.equal(after.seq, 2, "nothing of the refused batch was kept");
      const [report] = await verifyAuditChains(test.database.db, vault, tenantId);
      assert.deepEqual(report!.problems, []);
      assert.equal(report!.records, 2);
    });
  });
}
