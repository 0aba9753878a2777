// Opens the embedded SQLite database with Node's built-in driver and the pragmas durability needs.

import { chmodSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Kysely, SqliteAdapter, SqliteDialect, type DialectAdapter } from "kysely";
import { AppError } from "../errors/app-error.ts";
import { adaptNodeSqlite } from "./adapt-node-sqlite.ts";
import { attachChangeNotices, createInProcessChangeNotices } from "./change-notices.ts";
import type { Database } from "./database.ts";
import type { DatabaseSchema } from "./schema.ts";

const BUSY_TIMEOUT_MS = 5000;

export async function openSqliteDatabase(path: string): Promise<Database> {
  const inMemory = path === ":memory:";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });

  let sqlite: DatabaseSync;
  try {
    // readBigInts false: integers come back as numbers; node:sqlite throws rather than lose
    // precision if one is outside the safe range.
    sqlite = new DatabaseSync(path, {
      readBigInts: false,
      enableForeignKeyConstraints: true,
      timeout: BUSY_TIMEOUT_MS,
    });
  } catch (error) {
    throw new AppError("storage_failed", `cannot open SQLite database at ${path}: ${messageOf(error)}`);
  }

  try {
    // Owner-only, like the blob files; SQLite gives the -wal and -shm files the same mode.
    if (!inMemory) chmodSync(path, 0o600);
    applyPragmas(sqlite, inMemory);
  } catch (error) {
    sqlite.close();
    throw error;
  }

  const database = adaptNodeSqlite(sqlite);
  // Kysely's SqliteDriver holds a mutex around its single connection for the whole of a
  // transaction, so concurrent transactions on this synchronous driver never interleave.
  const db = new Kysely<DatabaseSchema>({ dialect: new TransactionalDdlSqliteDialect({ database }) });
  const dataVersion = sqlite.prepare("PRAGMA data_version");
  dataVersion.setReturnArrays(true);
  attachChangeNotices(db, createInProcessChangeNotices(() => (dataVersion.get() as unknown as [number])[0]));
  return {
    kind: "sqlite",
    db,
    ...(inMemory ? {} : { file: path }),
    async close() {
      await db.destroy();
      // destroy() closes nothing if Kysely never ran a query.
      database.close();
    },
  };
}

// SQLite runs DDL inside transactions, but Kysely's adapter says it does not, so its Migrator
// would leave a half-applied migration behind after a failure; this lets it wrap them.
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

function applyPragmas(sqlite: DatabaseSync, inMemory: boolean): void {
  const journal = sqlite.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode?: string } | undefined;
  if (!inMemory && journal?.journal_mode !== "wal") {
    throw new AppError(
      "storage_failed",
      `SQLite refused WAL journal mode (got ${String(journal?.journal_mode)}); is the file system local?`,
    );
  }
  sqlite.exec("PRAGMA synchronous = FULL");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
