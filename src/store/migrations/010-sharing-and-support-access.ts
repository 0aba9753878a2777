// Links that share one document with someone outside the company (token and PIN kept only as keyed
// hashes, with an expiry, an attempt counter and a revocation), and the time-limited grants by which a
// company lets a named operator read its documents for support.

import { binaryType, type SchemaMigration } from "./schema-migration.ts";

export const sharingAndSupportAccessMigration: SchemaMigration = {
  name: "010_sharing_and_support_access",
  async up(db, kind) {
    const binary = binaryType(kind);
    await db.schema
      .createTable("document_shares")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("document_id", "text", (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("pin_hash", "text")
      .addColumn("pin_attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("locked_at", "text")
      // Whom it was sent to (e-mail, phone), sealed under the company's key.
      .addColumn("recipient_ciphertext", binary)
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .addColumn("revoked_by", "text")
      .addColumn("download_count", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("last_download_at", "text")
      .addPrimaryKeyConstraint("document_shares_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("document_shares_document").on("document_shares").columns(["tenant_id", "document_id"]).execute();

    await db.schema
      .createTable("support_access_grants")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("operator_id", "text", (c) => c.notNull())
      .addColumn("reason_ciphertext", binary)
      .addColumn("granted_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .addColumn("revoked_by", "text")
      .addPrimaryKeyConstraint("support_access_grants_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("support_access_grants_operator").on("support_access_grants").columns(["operator_id", "tenant_id"]).execute();
  },
};
