// Test databases on both dialects: a fresh SQLite file or a fresh PostgreSQL database per call.
//
// Usage (run a suite on both databases; PostgreSQL is skipped when unreachable, except in CI):
//
//   for (const kind of databaseKinds) {
//     describe(kind, { skip: await skipReason(kind) }, () => {
//       let test: TestDatabase;
//       before(async () => { test = await openTestDatabase(kind); });
//       after(() => test.cleanup());
//       it("…", async () => { await test.database.db.selectFrom("tenants")… });
//     });
//   }
//
// With CI=true an unreachable PostgreSQL makes skipReason throw, so the test file fails: CI must
// run the PostgreSQL suite. The server is STRONGROOM_TEST_PG_URL (a URL to an existing database
// whose user may CREATE DATABASE), default postgres://postgres@127.0.0.1:5432/postgres.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openDatabase, type Database, type DatabaseConfig, type DatabaseKind } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createVault, type Vault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";

export const databaseKinds = ["sqlite", "postgres"] as const satisfies readonly DatabaseKind[];

export type TestDatabase = {
  database: Database;
  config: DatabaseConfig;
  /** SQLite only: the temporary directory holding the database file. */
  dataDir?: string;
  /** Closes the database and deletes it (the directory, or DROP DATABASE … WITH (FORCE)). */
  cleanup(): Promise<void>;
};

const adminUrl = process.env.STRONGROOM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const inCi = process.env.CI === "true";

let availability: Promise<boolean> | undefined;

/** Whether the test PostgreSQL server answers (checked once per process). */
export function postgresAvailable(): Promise<boolean> {
  availability ??= probePostgres();
  return availability;
}

/** A reason to skip a suite on this database kind, or false to run it; throws in CI instead of skipping. */
export async function skipReason(kind: DatabaseKind): Promise<string | false> {
  if (kind === "sqlite" || (await postgresAvailable())) return false;
  const where = redactPassword(adminUrl);
  if (inCi) {
    throw new Error(`PostgreSQL is unreachable at ${where} and CI=true: the PostgreSQL suite must run in CI`);
  }
  return `PostgreSQL is unreachable at ${where} (set STRONGROOM_TEST_PG_URL)`;
}

/** A fresh, migrated (unless migrate is false) database of this kind. */
export async function openTestDatabase(
  kind: DatabaseKind,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const opened = kind === "sqlite" ? await openSqliteTestDatabase() : await openPostgresTestDatabase();
  if (options.migrate !== false) {
    try {
      await migrateToLatest(opened.database);
    } catch (error) {
      await opened.cleanup();
      throw error;
    }
  }
  return opened;
}

async function openSqliteTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), "sr-test-db-"));
  const config: DatabaseConfig = { kind: "sqlite", path: join(dataDir, "strongroom.sqlite") };
  const database = await openDatabase(config);
  return {
    database,
    config,
    dataDir,
    async cleanup() {
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function openPostgresTestDatabase(): Promise<TestDatabase> {
  const name = `sr_test_${randomBytes(8).toString("hex")}`;
  await runAdminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const config: DatabaseConfig = { kind: "postgres", url: url.toString() };
  const database = await openDatabase(config);
  return {
    database,
    config,
    async cleanup() {
      await database.close();
      await runAdminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function runAdminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

// A loaded machine (CI runs test files in parallel) can be slow to accept a connection: try a few
// times with a generous timeout before calling PostgreSQL unreachable.
async function probePostgres(): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await probePostgresOnce()) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

async function probePostgresOnce(): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  // An unreachable server can also surface as an 'error' event after connect() has rejected.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable STRONGROOM_TEST_PG_URL)";
  }
}

/** A vault on the test database, initialised 1-of-1 and unsealed with that share. */
export async function unsealedVault(database: Database): Promise<{ vault: Vault; share: string }> {
  const vault = createVault(createVaultRepository(database.db));
  const { shares } = await vault.initialize(1, 1);
  await vault.submitShare(shares[0]!);
  return { vault, share: shares[0]! };
}
