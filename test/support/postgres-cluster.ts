// A throw-away PostgreSQL primary with one synchronous streaming replica, built with the machine's
// own PostgreSQL binaries: initdb, pg_ctl, pg_basebackup -R. PostgreSQL refuses to run as root, so
// every server command runs as the `postgres` OS user in a temporary directory it owns. Used by the
// failover test; close() stops both servers and deletes everything.
import { execFile } from "node:child_process";
import { chown, mkdtemp, rm, appendFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { postgresBinary } from "./database-copy.ts";

const run = promisify(execFile);

export type ReplicatedCluster = {
  primaryPort: number;
  replicaPort: number;
  url(port: number, database: string): string;
  query(port: number, database: string, statement: string): Promise<pg.QueryResult>;
  /** The primary's view: the replica is streaming and synchronous. */
  waitForSynchronousReplica(): Promise<void>;
  stopPrimaryImmediately(): Promise<void>;
  promoteReplica(): Promise<void>;
  close(): Promise<void>;
};

const replicaName = "strongroom_replica";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function asPostgres(binary: string, args: string[], options: { timeout?: number } = {}) {
  return run("runuser", ["-u", "postgres", "--", postgresBinary(binary), ...args], { timeout: options.timeout ?? 120_000 });
}

/** A reason to skip, or false; in CI (CI=true) a missing prerequisite fails instead, like the PostgreSQL suites. */
export function postgresClusterSkipReason(): string | false {
  let reason: string | false = false;
  if (process.getuid?.() !== 0) reason = "the failover test starts PostgreSQL as the postgres OS user and needs root for runuser";
  else {
    try {
      postgresBinary("pg_ctl");
    } catch {
      reason = "no PostgreSQL binaries under /usr/lib/postgresql";
    }
  }
  if (reason && process.env.CI === "true") throw new Error(`${reason}, and CI=true: the failover test must run in CI`);
  return reason;
}

export async function startReplicatedCluster(): Promise<ReplicatedCluster> {
  const root = await mkdtemp(join(tmpdir(), "sr-pg-cluster-"));
  const { stdout: uidText } = await run("id", ["-u", "postgres"]);
  const { stdout: gidText } = await run("id", ["-g", "postgres"]);
  await chown(root, Number(uidText.trim()), Number(gidText.trim()));
  const primaryDir = join(root, "primary");
  const replicaDir = join(root, "replica");
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const started: string[] = [];

  const url = (port: number, database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  async function query(port: number, database: string, statement: string): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: url(port, database), connectionTimeoutMillis: 5000 });
    client.on("error", () => {});
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end().catch(() => {});
    }
  }
  const settings = (port: number) => [
    "listen_addresses = '127.0.0.1'", `port = ${port}`, `unix_socket_directories = '${root}'`,
    "wal_level = replica", "max_wal_senders = 5", "hot_standby = on", "fsync = on",
    // A commit is acknowledged only once the replica has it: "acknowledged" means "on the replica".
    `synchronous_standby_names = '${replicaName}'`, "synchronous_commit = on",
  ].join("\n");
  // The replica inherits the primary's settings; it must not wait for a standby of its own once
  // promoted (there is none until a new one is attached), or every commit would hang.

  try {
    await asPostgres("initdb", ["-D", primaryDir, "-U", "postgres", "--auth=trust", "--no-sync"]);
    await appendFile(join(primaryDir, "postgresql.conf"), `\n${settings(primaryPort)}\n`);
    await appendFile(join(primaryDir, "pg_hba.conf"), "\nhost replication postgres 127.0.0.1/32 trust\n");
    await asPostgres("pg_ctl", ["-D", primaryDir, "-l", join(root, "primary.log"), "-w", "start"]);
    started.push(primaryDir);
    await asPostgres("pg_basebackup", ["-d", `host=127.0.0.1 port=${primaryPort} user=postgres application_name=${replicaName}`, "-D", replicaDir, "-R", "-X", "stream"]);
    await run("runuser", ["-u", "postgres", "--", "sh", "-c",
      `printf "%s\\n" "port = ${replicaPort}" "primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres application_name=${replicaName}'" "synchronous_standby_names = ''" >> '${join(replicaDir, "postgresql.auto.conf")}'`]);
    await asPostgres("pg_ctl", ["-D", replicaDir, "-l", join(root, "replica.log"), "-w", "start"]);
    started.push(replicaDir);
  } catch (error) {
    for (const dir of started) await asPostgres("pg_ctl", ["-D", dir, "-m", "immediate", "stop"]).catch(() => {});
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  return {
    primaryPort,
    replicaPort,
    url,
    query,
    async waitForSynchronousReplica() {
      for (let attempt = 0; attempt < 100; attempt++) {
        const result = await query(primaryPort, "postgres", "select sync_state from pg_stat_replication");
        if (result.rows.some((row: { sync_state: string }) => row.sync_state === "sync")) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("the replica did not become synchronous");
    },
    async stopPrimaryImmediately() {
      await asPostgres("pg_ctl", ["-D", primaryDir, "-m", "immediate", "stop"]);
    },
    async promoteReplica() {
      await asPostgres("pg_ctl", ["-D", replicaDir, "-w", "promote"]);
    },
    async close() {
      for (const dir of started) await asPostgres("pg_ctl", ["-D", dir, "-m", "immediate", "stop"]).catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
