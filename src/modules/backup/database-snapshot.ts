// Consistent snapshots of the live database into a file, and their restore into an empty database:
// SQLite through its online backup API (node:sqlite `backup`, consistent while the server writes),
// PostgreSQL through pg_dump in custom format (one repeatable-read snapshot) and pg_restore.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { backup, DatabaseSync } from "node:sqlite";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseConfig } from "../../store/database.ts";

export async function snapshotDatabase(config: DatabaseConfig, file: string, postgresBinDir: string | undefined): Promise<void> {
  if (config.kind === "sqlite") {
    // A connection of our own: the backup API copies pages while other connections keep writing. All
    // pages in one step, i.e. one read transaction: copied a batch at a time (the default, 100 pages),
    // every write by the server between two batches restarts the copy, so a busy server with a large
    // database could keep a backup from ever finishing.
    const source = new DatabaseSync(config.path, { readOnly: true, timeout: 5000 });
    try {
      await backup(source, file, { rate: 2 ** 30 });
    } catch (error) {
      throw new AppError("backup_failed", `SQLite snapshot failed: ${(error as Error).message}`);
    } finally {
      source.close();
    }
    return;
  }
  await runPostgresTool(postgresTool("pg_dump", postgresBinDir), ["--format=custom", "--no-owner", "--no-privileges", "--compress=0", `--file=${file}`], config);
}

/** Refuses unless the target holds no data: restore never mixes a backup into a live installation. */
export async function assertDatabaseEmpty(config: DatabaseConfig): Promise<void> {
  if (config.kind === "sqlite") {
    if (!existsSync(config.path)) return;
    if ((await stat(config.path)).size === 0) return;
    const db = new DatabaseSync(config.path, { readOnly: true });
    try {
      const row = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      if (row.n > 0) throw new AppError("restore_target_not_empty", `the SQLite database ${config.path} already has tables: restore needs an empty data directory`);
    } finally {
      db.close();
    }
    return;
  }
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: config.url, ...(config.tls ? { ssl: config.tls } : {}) });
  await client.connect();
  try {
    const result = await client.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')");
    if ((result.rows[0] as { n: number }).n > 0) throw new AppError("restore_target_not_empty", "the PostgreSQL database already has tables: restore needs an empty database");
  } finally {
    await client.end();
  }
}

export async function restoreDatabase(config: DatabaseConfig, file: string, postgresBinDir: string | undefined): Promise<void> {
  if (config.kind === "sqlite") {
    // The snapshot is a complete database file; WAL and shm files of an empty target are stale.
    for (const suffix of ["-wal", "-shm"]) await rm(config.path + suffix, { force: true });
    await rename(file, config.path);
    return;
  }
  await runPostgresTool(postgresTool("pg_restore", postgresBinDir), ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", file], config);
}

function postgresTool(name: string, binDir: string | undefined): string {
  if (binDir) return join(binDir, name);
  // The newest client dumps any older server; Debian's /usr/bin wrapper would pick by cluster.
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const path = join(root, version, "bin", name);
    if (existsSync(path)) return path;
  }
  return name;
}

// The password travels in the environment, never on the command line where `ps` would show it.
function runPostgresTool(tool: string, args: string[], config: Extract<DatabaseConfig, { kind: "postgres" }>): Promise<void> {
  const url = new URL(config.url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  url.password = "";
  if (config.tls) env.PGSSLMODE = config.tls.rejectUnauthorized ? "verify-full" : "require";
  return new Promise((resolve, reject) => {
    const child = spawn(tool, [...args, `--dbname=${url.toString()}`], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      if (stderr.length < 4000) stderr += text;
    });
    child.on("error", (error) => reject(new AppError("backup_failed", `cannot run ${tool}: ${error.message}`)));
    child.on("exit", (code) => {
      if (code === 0) resolve();
      else reject(new AppError("backup_failed", `${tool} failed (exit ${String(code)}): ${stderr.trim().split("\n").slice(-3).join(" ")}`));
    });
  });
}
