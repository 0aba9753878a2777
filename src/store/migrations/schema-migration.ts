// The shape of one schema migration, and the column types that differ between SQLite and PostgreSQL.

import type { Kysely } from "kysely";
import type { DatabaseKind } from "../database.ts";

/**
 * Migrations are forward-only (no `down`): they hold the vault's ciphertext, and an automatic
 * rollback that drops tables would destroy data. `db` is untyped on purpose: a migration sees the
 * schema as it was when it was written, not today's DatabaseSchema.
 */
export type SchemaMigration = {
  name: string;
  up(db: Kysely<any>, kind: DatabaseKind): Promise<void>;
};

/** Raw bytes: `blob` on SQLite, `bytea` on PostgreSQL (both read back as Buffer). */
export function binaryType(kind: DatabaseKind): "blob" | "bytea" {
  return kind === "sqlite" ? "blob" : "bytea";
}

/** A 64-bit integer that reads back as a JS number (see open-postgres-database.ts); SQLite's integer is 64-bit already. */
export function int64Type(kind: DatabaseKind): "integer" | "bigint" {
  return kind === "sqlite" ? "integer" : "bigint";
}
