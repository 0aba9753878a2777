// Data lifecycle: the vault's shred list (key owners whose keys were destroyed, so a restored copy can
// destroy them again), per-company retention settings, and the signed anchors that let an audit chain
// whose oldest records were removed by retention still be verified from its first remaining record.

import type { SchemaMigration } from "./schema-migration.ts";

export const dataLifecycleMigration: SchemaMigration = {
  name: "015_data_lifecycle",
  async up(db) {
    await db.schema
      .createTable("vault_shredded_key_owners")
      // A tenant id, or "user:<id>" for a person's own key owner. Ids only: no name, no content.
      .addColumn("key_owner", "text", (column) => column.primaryKey().notNull())
      .addColumn("shredded_at", "text", (column) => column.notNull())
      .execute();

    await db.schema
      .createTable("tenant_retention")
      .addColumn("tenant_id", "text", (column) => column.primaryKey().notNull())
      // Null: keep for ever (the default until a company sets a period).
      .addColumn("trash_days", "integer")
      .addColumn("audit_years", "integer")
      .addColumn("updated_by", "text", (column) => column.notNull())
      .addColumn("updated_at", "text", (column) => column.notNull())
      .execute();

    await db.schema
      .createTable("audit_prune_anchors")
      .addColumn("chain_id", "text", (column) => column.primaryKey().notNull())
      // Records 1..seq were removed by retention; record seq's hash is where verification resumes.
      .addColumn("seq", "integer", (column) => column.notNull())
      .addColumn("record_hash", "text", (column) => column.notNull())
      .addColumn("at", "text", (column) => column.notNull())
      .addColumn("key_id", "text", (column) => column.notNull())
      .addColumn("signature", "text", (column) => column.notNull())
      .execute();
  },
};
