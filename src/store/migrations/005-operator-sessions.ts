// Operators' sign-in: the last TOTP time step each operator used (so a code cannot be replayed) and
// operator sessions, kept apart from company users' sessions and stored only as keyed token hashes.

import type { SchemaMigration } from "./schema-migration.ts";

export const operatorSessionsMigration: SchemaMigration = {
  name: "005_operator_sessions",
  async up(db) {
    await db.schema.alterTable("operators").addColumn("totp_last_step", "integer").execute();

    await db.schema
      .createTable("operator_sessions")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("operator_id", "text", (c) => c.notNull())
      .addColumn("ip", "text", (c) => c.notNull())
      .addColumn("user_agent", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("last_seen_at", "text", (c) => c.notNull())
      .addColumn("idle_expires_at", "text", (c) => c.notNull())
      .addColumn("absolute_expires_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .execute();
    await db.schema.createIndex("operator_sessions_operator").on("operator_sessions").column("operator_id").execute();
  },
};
