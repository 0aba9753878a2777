// The audit trail: append-only records, hash-chained per company (chain "system" for events outside
// any company), the head of each chain, signed checkpoints, and the service's signing key (sealed).

import { binaryType, int64Type, type SchemaMigration } from "./schema-migration.ts";
import { sql } from "kysely";

export const auditMigration: SchemaMigration = {
  name: "006_audit",
  async up(db, kind) {
    const int64 = int64Type(kind);
    const binary = binaryType(kind);

    await db.schema
      .createTable("audit_records")
      .addColumn("chain_id", "text", (c) => c.notNull())
      .addColumn("seq", int64, (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull().unique())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("tenant_id", "text")
      .addColumn("actor_type", "text", (c) => c.notNull())
      .addColumn("actor_id", "text")
      .addColumn("ip", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("object", "text", (c) => c.notNull())
      .addColumn("details", "text", (c) => c.notNull())
      .addColumn("request_id", "text")
      .addColumn("record_hash", "text", (c) => c.notNull())
      // Filled when the request ends; sealed by its own hash over the record hash.
      .addColumn("result", "text", (c) => c.notNull())
      .addColumn("status", "integer")
      .addColumn("error_code", "text")
      // Whom the action concerned when the actor was not yet known (e.g. the user a sign-in was for).
      .addColumn("subject_id", "text")
      .addColumn("result_hash", "text")
      .addPrimaryKeyConstraint("audit_records_pkey", ["chain_id", "seq"])
      .addCheckConstraint("audit_records_actor_type", sql`actor_type in ('user', 'api_key', 'operator', 'anonymous', 'system')`)
      .execute();
    await db.schema.createIndex("audit_records_tenant_at").on("audit_records").columns(["tenant_id", "at"]).execute();
    await db.schema.createIndex("audit_records_actor").on("audit_records").columns(["actor_id", "at"]).execute();
    await db.schema.createIndex("audit_records_subject").on("audit_records").columns(["subject_id", "at"]).execute();

    await db.schema
      .createTable("audit_chain_heads")
      .addColumn("chain_id", "text", (c) => c.primaryKey().notNull())
      .addColumn("seq", int64, (c) => c.notNull())
      .addColumn("record_hash", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("audit_checkpoints")
      .addColumn("chain_id", "text", (c) => c.notNull())
      .addColumn("seq", int64, (c) => c.notNull())
      .addColumn("record_hash", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("audit_checkpoints_pkey", ["chain_id", "seq"])
      .execute();

    await db.schema
      .createTable("service_keys")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("algorithm", "text", (c) => c.notNull())
      .addColumn("public_key_pem", "text", (c) => c.notNull())
      .addColumn("private_key_ciphertext", binary, (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("retired_at", "text")
      .execute();
  },
};
