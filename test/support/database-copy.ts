// An independent copy of a test database, as an older backup would hold it: SQLite by VACUUM INTO
// (consistent while open), PostgreSQL by pg_dump in custom format restored with pg_restore into a
// fresh database. Used to prove what a restored older copy can and cannot open.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import pg from "pg";
import { openDatabase, type DatabaseConfig } from "../../src/store/database.ts";
import type { TestDatabase } from "./databases.ts";

const run = promisify(execFile);

export function postgresBinary(name: string): string {
  const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error("no PostgreSQL binaries under /usr/lib/postgresql");
  return join("/usr/lib/postgresql", versions[0]!, "bin", name);
}

export async function copyTestDatabase(source: TestDatabase): Promise<TestDatabase> {
  if (source.config.kind === "sqlite") {
    const dataDir = await mkdtemp(join(tmpdir(), "sr-copy-db-"));
    const path = join(dataDir, "strongroom.sqlite");
    await sql`VACUUM INTO ${path}`.execute(source.database.db);
    const config: DatabaseConfig = { kind: "sqlite", path };
    const database = await openDatabase(config);
    return { database, config, dataDir, async cleanup() { await database.close(); await rm(dataDir, { recursive: true, force: true }); } };
  }
  const sourceUrl = source.config.url;
  const name = `sr_copy_${randomBytes(8).toString("hex")}`;
  const admin = new URL(sourceUrl);
  admin.pathname = "/postgres";
  await adminQuery(admin.toString(), `CREATE DATABASE ${name}`);
  const target = new URL(sourceUrl);
  target.pathname = `/${name}`;
  const dir = await mkdtemp(join(tmpdir(), "sr-copy-dump-"));
  try {
    const dumpFile = join(dir, "db.dump");
    await run(postgresBinary("pg_dump"), ["--format=custom", `--file=${dumpFile}`, sourceUrl]);
    await run(postgresBinary("pg_restore"), ["--no-owner", `--dbname=${target.toString()}`, dumpFile]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const config: DatabaseConfig = { kind: "postgres", url: target.toString() };
  const database = await openDatabase(config);
  return {
    database, config,
    async cleanup() {
      await database.close();
      await adminQuery(admin.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
