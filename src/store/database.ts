// Opens the one query layer (Kysely) over SQLite (embedded default) or PostgreSQL (scale-out);
// the rest of the code receives a Database and never asks which backend it is unless it must.

import type { Kysely } from "kysely";
import { openSqliteDatabase } from "./open-sqlite-database.ts";
import type { DatabaseSchema } from "./schema.ts";

export type DatabaseKind = "sqlite" | "postgres";

/** TLS for PostgreSQL; ca/cert/key are PEM contents, not paths. */
export type PostgresTlsConfig = {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
};

export type DatabaseConfig =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string; tls?: PostgresTlsConfig };

/**
 * Transactions: `db.transaction().execute(async (trx) => …)`. Inside the callback use `trx` only:
 * SQLite has a single connection that the transaction holds, so a query on `db` there would wait
 * for the transaction to end (a deadlock). Concurrent transactions on SQLite run one after another.
 */
export type Database = {
  kind: DatabaseKind;
  db: Kysely<DatabaseSchema>;
  /** SQLite only, and not for an in-memory database: the database file. */
  file?: string;
  close(): Promise<void>;
};

export type OpenDatabaseOptions = {
  /** PostgreSQL only: an idle pooled connection failed (the pool replaces it). Defaults to ignoring it. */
  onConnectionError?: (error: Error) => void;
};

export async function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Promise<Database> {
  switch (config.kind) {
    case "sqlite":
      return openSqliteDatabase(config.path);
    case "postgres":
      // Loaded only here: the pg driver is of no use to the embedded default.
      return (await import("./open-postgres-database.ts")).openPostgresDatabase(config.url, config.tls, options.onConnectionError);
  }
}
