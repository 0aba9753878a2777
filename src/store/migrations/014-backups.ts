// Backups: the SHA-256 of each blob already seen (blob keys are written once, so a key and its size
// name its content, and an incremental backup need not read it again), and the lease that keeps two
// nodes, or the schedule and the CLI, from running a backup at once.

import { int64Type, type SchemaMigration } from "./schema-migration.ts";

export const backupsMigration: SchemaMigration = {
  name: "014_backups",
  async up(db, kind) {
    await db.schema
      .createTable("backup_blob_digests")
      .addColumn("store_key", "text", (c) => c.primaryKey())
      .addColumn("size", int64Type(kind), (c) => c.notNull())
      .addColumn("sha256", "text", (c) => c.notNull())
      .addColumn("recorded_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("backup_leases")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("holder", "text")
      .addColumn("expires_at", "text")
      // The last scheduled slot (e.g. a day) some node claimed, so each slot runs once across nodes.
      .addColumn("last_slot", "text")
      .execute();
  },
};
