// Proves the schema migrations on both dialects: the tables, their constraints, and atomic failure.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../test/support/databases.ts";
import { isAppError } from "../errors/app-error.ts";
import { migrateToLatest } from "./migrate.ts";
import { vaultMigration } from "./migrations/001-vault.ts";
import { schemaMigrations } from "./migrations/schema-migrations.ts";
import type { SchemaMigration } from "./migrations/schema-migration.ts";

const vaultTables = ["blob_objects", "tenant_keys", "tenants", "vault_keyring", "vault_seal"];
const identityTables = [
  "api_keys", "devices", "group_members", "groups", "invitations", "login_challenges", "memberships", "message_outbox",
  "oidc_identities", "oidc_login_attempts", "one_time_links", "operator_sessions", "operators", "recovery_codes", "sessions", "users", "webauthn_challenges", "webauthn_credentials",
];
const auditTables = ["audit_chain_heads", "audit_checkpoints", "audit_records", "service_keys", "phone_verifications"];
const alertTables = ["alert_channels", "alert_deliveries"];
const documentTables = ["document_versions", "documents", "folders", "grants", "search_tokens"];
const sharingTables = ["document_shares", "support_access_grants"];
const signingTables = ["signature_evidence", "signature_fields", "signature_recipients", "signature_requests", "signing_webhook_deliveries", "signing_webhooks"];
const sealTables = ["document_signing_keys", "seals", "transparency_log", "transparency_tree_heads"];
const backupTables = ["backup_blob_digests", "backup_leases"];
const lifecycleTables = ["audit_prune_anchors", "tenant_retention", "vault_shredded_key_owners"];
const allTables = [...vaultTables, ...identityTables, ...auditTables, ...alertTables, ...documentTables, ...sharingTables, ...sealTables, ...signingTables, ...backupTables, ...lifecycleTables].sort();
const now = "2025-01-01T00:00:00.000Z";

for (const kind of databaseKinds) {
  describe(`migrations on ${kind}`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    before(async () => {
      test = await openTestDatabase(kind);
    });
    after(() => test.cleanup());

    it("creates exactly the vault and identity tables, with the vault's specified columns", async () => {
      const tables = await test.database.db.introspection.getTables();
      const byName = new Map(tables.map((table) => [table.name, table]));
      assert.deepEqual([...byName.keys()].sort(), allTables);
      const columns = (name: string) =>
        byName
          .get(name)
          ?.columns.map((column) => `${column.name}${column.isNullable ? "?" : ""}`)
          .sort();
      assert.deepEqual(columns("vault_seal"), [
        "created_at",
        "id",
        "installation_id",
        "root_key_ciphertext",
        "share_count",
        "threshold",
        "updated_at",
      ]);
      assert.deepEqual(columns("vault_keyring"), ["ciphertext", "id", "revision", "updated_at"]);
      assert.deepEqual(columns("tenant_keys"), [
        "created_at",
        "keyring_term",
        "state",
        "tenant_id",
        "uses_reserved",
        "version",
        "wrapped_key",
      ]);
      assert.deepEqual(columns("tenants"), ["created_at", "id", "ip_allowlist", "name_ciphertext", "oidc_allowed", "require_admin_mfa"]);
      assert.deepEqual(columns("blob_objects"), ["blob_key", "created_at", "id", "size", "tenant_id"]);
    });

    it("is idempotent", async () => {
      await migrateToLatest(test.database);
      await migrateToLatest(test.database);
      const tables = await test.database.db.introspection.getTables();
      assert.equal(tables.length, allTables.length);
    });

    it("keeps vault_seal and vault_keyring to the single row id = 1", async () => {
      const { db } = test.database;
      const seal = {
        installation_id: "inst",
        threshold: 2,
        share_count: 3,
        root_key_ciphertext: Buffer.from([1]),
        created_at: now,
        updated_at: now,
      };
      await assert.rejects(db.insertInto("vault_seal").values({ id: 2, ...seal }).execute());
      await db.insertInto("vault_seal").values({ id: 1, ...seal }).execute();
      await assert.rejects(db.insertInto("vault_seal").values({ id: 1, ...seal }).execute());
      const keyring = { revision: 1, ciphertext: Buffer.from([2]), updated_at: now };
      await assert.rejects(db.insertInto("vault_keyring").values({ id: 2, ...keyring }).execute());
      await db.insertInto("vault_keyring").values({ id: 1, ...keyring }).execute();
    });

    it("enforces tenant_keys' primary key, state values and uses_reserved default", async () => {
      const { db } = test.database;
      const key = { tenant_id: "t1", version: 1, keyring_term: 1, wrapped_key: Buffer.from([3]), created_at: now };
      await db.insertInto("tenant_keys").values({ ...key, state: "active" }).execute();
      await assert.rejects(db.insertInto("tenant_keys").values({ ...key, state: "retired" }).execute());
      await assert.rejects(
        db
          .insertInto("tenant_keys")
          .values({ ...key, version: 2, state: "bogus" as "active" })
          .execute(),
      );
      const row = await db.selectFrom("tenant_keys").selectAll().executeTakeFirstOrThrow();
      assert.equal(row.uses_reserved, 0);
      assert.equal(typeof row.uses_reserved, "number");
    });

    it("rejects NULL in not-null columns", async () => {
      const { db } = test.database;
      await assert.rejects(
        db
          .insertInto("tenants")
          .values({ id: "null-name", name_ciphertext: null as unknown as Uint8Array, created_at: now })
          .execute(),
      );
    });
  });

  describe(`a failing migration on ${kind}`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    before(async () => {
      test = await openTestDatabase(kind, { migrate: false });
    });
    after(() => test.cleanup());

    it("reports which migration failed and leaves no part of the batch applied", async () => {
      const broken: SchemaMigration = {
        name: "002_broken",
        async up(db) {
          await db.schema.createTable("half_done").addColumn("id", "integer").execute();
          await sql`this is not sql`.execute(db);
        },
      };
      await assert.rejects(migrateToLatest(test.database, [vaultMigration, broken]), (error) => {
        assert.ok(isAppError(error));
        assert.equal(error.code, "storage_failed");
        assert.match(error.message, /002_broken/);
        return true;
      });
      const tables = await test.database.db.introspection.getTables();
      assert.deepEqual(
        tables.map((table) => table.name),
        [],
      );
      // The failure is not sticky: the real migrations still apply afterwards.
      await migrateToLatest(test.database);
      assert.equal((await test.database.db.introspection.getTables()).length, allTables.length);
    });

    it("a schema some migrations behind gets the rest (the up-to-date check does not stop it)", async () => {
      const behind = await openTestDatabase(kind, { migrate: false });
      const firstThree = [...schemaMigrations].sort((a, b) => (a.name < b.name ? -1 : 1)).slice(0, 3);
      try {
        await migrateToLatest(behind.database, firstThree);
        const applied = async () => (await sql<{ name: string }>`select name from kysely_migration`.execute(behind.database.db)).rows.map((row) => row.name).sort();
        assert.deepEqual(await applied(), firstThree.map((migration) => migration.name));
        await migrateToLatest(behind.database);
        assert.deepEqual(await applied(), schemaMigrations.map((migration) => migration.name).sort());
        assert.equal((await behind.database.db.introspection.getTables()).length, allTables.length);
      } finally {
        await behind.cleanup();
      }
    });
  });
}
