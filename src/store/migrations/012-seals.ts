// Seals of completed signature requests, the append-only transparency log they are written to (an
// RFC 6962 Merkle tree over the signed seal records, with signed tree heads), and the generated
// document-signing key and certificate (PAdES) of installations that do not supply their own.

import { sql } from "kysely";
import { binaryType, int64Type, type SchemaMigration } from "./schema-migration.ts";

/** Tables the database itself keeps append-only (the Merkle proofs catch whoever removes the guard). */
export const appendOnlyTables = ["transparency_log", "transparency_tree_heads"] as const;

export const sealsMigration: SchemaMigration = {
  name: "012_seals",
  async up(db, kind) {
    const binary = binaryType(kind);
    const int64 = int64Type(kind);
    await db.schema
      .createTable("document_signing_keys")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("certificate_pem", "text", (c) => c.notNull())
      .addColumn("private_key_ciphertext", binary, (c) => c.notNull())
      .addColumn("not_after", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("retired_at", "text")
      .execute();

    // One leaf per seal; the leaf hash is SHA-256(0x00 ‖ canonical JSON of the signed seal record).
    await db.schema
      .createTable("transparency_log")
      .addColumn("log_index", int64, (c) => c.primaryKey())
      .addColumn("leaf_hash", "text", (c) => c.notNull())
      .addColumn("appended_at", "text", (c) => c.notNull())
      .execute();

    // A signed statement "the log had this many leaves and this root at this time".
    await db.schema
      .createTable("transparency_tree_heads")
      .addColumn("tree_size", int64, (c) => c.primaryKey())
      .addColumn("root_hash", "text", (c) => c.notNull())
      .addColumn("signed_at", "text", (c) => c.notNull())
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .execute();

    for (const table of appendOnlyTables) {
      if (kind === "sqlite") {
        for (const change of ["update", "delete"]) {
          await sql.raw(`CREATE TRIGGER ${table}_no_${change} BEFORE ${change.toUpperCase()} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`).execute(db);
        }
      } else {
        await sql.raw(`CREATE FUNCTION ${table}_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '${table} is append-only'; END $$ LANGUAGE plpgsql`).execute(db);
        await sql.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`).execute(db);
      }
    }

    // The seal record itself names signers (names, e-mails): sealed under the company's key. Only
    // hashes that the holder of the final PDF can compute anyway are stored in the clear, for lookup.
    await db.schema
      .createTable("seals")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("request_id", "text", (c) => c.notNull())
      .addColumn("sha256", "text", (c) => c.notNull().unique())
      // SHA-256 of the CMS signature embedded in the final PDF: finds the seal of a PDF changed after sealing.
      .addColumn("cms_sha256", "text", (c) => c.notNull().unique())
      .addColumn("log_index", int64, (c) => c.notNull().unique())
      .addColumn("sealed_at", "text", (c) => c.notNull())
      .addColumn("record_ciphertext", binary, (c) => c.notNull())
      .addPrimaryKeyConstraint("seals_pkey", ["tenant_id", "request_id"])
      .execute();
  },
};
