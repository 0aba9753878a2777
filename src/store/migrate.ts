// Brings a database's schema up to date with Kysely's Migrator, which records applied migrations
// and takes a lock so that several nodes starting at once migrate only once.

import { type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { AppError } from "../errors/app-error.ts";
import type { Database } from "./database.ts";
import { schemaMigrations } from "./migrations/schema-migrations.ts";
import type { SchemaMigration } from "./migrations/schema-migration.ts";

export async function migrateToLatest(
  database: Database,
  migrations: readonly SchemaMigration[] = schemaMigrations,
): Promise<void> {
  if (await isUpToDate(database, migrations)) return;
  const migrator = new Migrator({ db: database.db, provider: staticProvider(database, migrations) });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((result) => result.status === "Error")?.migrationName;
  throw new AppError(
    "storage_failed",
    `database migration ${failed ?? "(before any migration ran)"} failed: ${error instanceof Error ? error.message : String(error)}`,
    { migration: failed },
  );
}

// The common case, a schema already at the latest migration, read in one query instead of the
// Migrator's table checks, lock and transaction (~15 ms of every command's start on SQLite, measured).
// Anything else (no table yet, a missing or unknown migration) is left to the Migrator to apply or report.
async function isUpToDate(database: Database, migrations: readonly SchemaMigration[]): Promise<boolean> {
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(database.db);
    const applied = rows.map((row) => row.name).sort();
    const expected = migrations.map((migration) => migration.name).sort();
    return applied.length === expected.length && applied.every((name, index) => name === expected[index]);
  } catch {
    return false;
  }
}

function staticProvider(database: Database, migrations: readonly SchemaMigration[]): MigrationProvider {
  return {
    async getMigrations() {
      const byName: Record<string, Migration> = {};
      for (const migration of migrations) {
        byName[migration.name] = { up: (db) => migration.up(db, database.kind) };
      }
      return byName;
    },
  };
}
