// The vault's tables (seal, keyring, tenant keys), the minimal tenant row and the blob index.
// The vault writes only ciphertext into the binary columns.

import { sql } from "kysely";
import { binaryType, int64Type, type SchemaMigration } from "./schema-migration.ts";

// Primary keys are declared NOT NULL explicitly: SQLite otherwise lets a text primary key hold NULL.
export const vaultMigration: SchemaMigration = {
  name: "001_vault",
  async up(db, kind) {
    const binary = binaryType(kind);

    await db.schema
      .createTable("vault_seal")
      .addColumn("id", "integer", (column) => column.primaryKey().notNull())
      .addColumn("installation_id", "text", (column) => column.notNull())
      .addColumn("threshold", "integer", (column) => column.notNull())
      .addColumn("share_count", "integer", (column) => column.notNull())
      .addColumn("root_key_ciphertext", binary, (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("updated_at", "text", (column) => column.notNull())
      .addCheckConstraint("vault_seal_single_row", sql`id = 1`)
      .execute();

    await db.schema
      .createTable("vault_keyring")
      .addColumn("id", "integer", (column) => column.primaryKey().notNull())
      .addColumn("revision", "integer", (column) => column.notNull())
      .addColumn("ciphertext", binary, (column) => column.notNull())
      .addColumn("updated_at", "text", (column) => column.notNull())
      .addCheckConstraint("vault_keyring_single_row", sql`id = 1`)
      .execute();

    await db.schema
      .createTable("tenant_keys")
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("version", "integer", (column) => column.notNull())
      .addColumn("keyring_term", "integer", (column) => column.notNull())
      .addColumn("wrapped_key", binary, (column) => column.notNull())
      // Counts encryptions reserved under this key, to rotate well before 2^32.
      .addColumn("uses_reserved", int64Type(kind), (column) => column.notNull().defaultTo(0))
      .addColumn("state", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("tenant_keys_pkey", ["tenant_id", "version"])
      .addCheckConstraint("tenant_keys_state", sql`state in ('active', 'retired')`)
      .execute();

    await db.schema
      .createTable("tenants")
      .addColumn("id", "text", (column) => column.primaryKey().notNull())
      .addColumn("name_ciphertext", binary, (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .execute();

    await db.schema
      .createTable("blob_objects")
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("id", "text", (column) => column.notNull())
      .addColumn("blob_key", "text", (column) => column.notNull())
      // 64-bit on PostgreSQL: a 32-bit integer would cap blobs at 2 GiB.
      .addColumn("size", int64Type(kind), (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("blob_objects_pkey", ["tenant_id", "id"])
      .execute();
  },
};
