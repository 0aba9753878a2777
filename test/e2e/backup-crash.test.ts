// kill -9 of the server in the middle of a scheduled backup (real server process, SQLite and files):
// the backups made before stay intact, listed and verifiable; the next run cleans up and succeeds.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { cliPath, runCli, startServerProcess, type ServerProcess } from "../support/server-process.ts";

describe("kill -9 during a scheduled backup (real server process)", () => {
  let dir: string;
  let s3: TestS3Server;
  let server: ServerProcess | undefined;
  const dataDir = () => join(dir, "data");
  const localDestination = () => join(dir, "backups-local");

  async function writeConfig(name: string, scheduleEnabled: boolean): Promise<string> {
    const file = join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify({
      dataDir: dataDir(),
      logLevel: "info",
      backup: {
        leaseSeconds: 3,
        schedule: { enabled: scheduleEnabled, intervalMinutes: 60 },
        destinations: [
          { name: "local", kind: "directory", path: localDestination() },
          { name: "offsite", kind: "s3", endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true },
        ],
      },
    }));
    return file;
  }

  async function addBlobs(count: number, size: number): Promise<void> {
    const store = createFileBlobStore(join(dataDir(), "blobs"));
    for (let index = 0; index < count; index++) await store.put(`t/crash/d/${randomBytes(8).toString("hex")}/v1`, Readable.from([randomBytes(size)]));
  }

  async function countFiles(root: string): Promise<number> {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isFile() && !entry.name.startsWith(".")).length;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sr-backup-crash-"));
    s3 = await startS3Server();
  });

  after(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  let good: string[] = [];

  it("two backups are made with `backup run` (the dev share unseals the CLI)", async () => {
    const quiet = await writeConfig("quiet", false);
    server = await startServerProcess(["--config", quiet]); // initialises the installation (dev default)
    await server.stop();
    await addBlobs(10, 256 * 1024);
    for (let run = 0; run < 2; run++) {
      const ran = await runCli(["backup", "run", "--json", "--config", quiet]);
      assert.equal(ran.code, 0, ran.stderr + ran.stdout);
      good.push(JSON.parse(ran.stdout).id);
    }
  });

  it("the server's schedule starts a backup; kill -9 in the middle of it leaves the earlier backups intact and listed", async () => {
    await addBlobs(48, 2 * 1024 * 1024);
    const before = await countFiles(join(localDestination(), "blobs"));
    server = await startServerProcess(["--config", await writeConfig("scheduled", true)]);
    const deadline = Date.now() + 60_000;
    while ((await countFiles(join(localDestination(), "blobs"))) < before + 3) {
      assert.ok(Date.now() < deadline, `the scheduled backup did not start copying:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    server.child.kill("SIGKILL");
    await once(server.child, "exit");
    assert.ok((await countFiles(join(localDestination(), "blobs"))) < before + 48, "killed before the copy finished");
    assert.match(server.output(), /"event":"backup_started"/);
    assert.doesNotMatch(server.output(), /"event":"backup_finished"/);

    const quiet = join(dir, "quiet.json");
    const listed = await runCli(["backup", "list", "--json", "--config", quiet]);
    assert.equal(listed.code, 0, listed.stderr);
    for (const destination of JSON.parse(listed.stdout).destinations) {
      assert.deepEqual(destination.good.map((backup: { id: string }) => backup.id), good, destination.destination);
    }
    for (const id of good) {
      const verified = await runCli(["backup", "verify", id, "--json", "--config", quiet]);
      assert.equal(verified.code, 0, verified.stdout);
      assert.equal(JSON.parse(verified.stdout).reports.length, 2);
    }
  });

  it("once the dead run's lease expires, the next run succeeds and removes its leftovers (plaintext snapshot included)", async () => {
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const quiet = join(dir, "quiet.json");
    const ran = await runCli(["backup", "run", "--json", "--config", quiet]);
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    const summary = JSON.parse(ran.stdout);
    good = [...good, summary.id];
    const listed = JSON.parse((await runCli(["backup", "list", "--json", "--config", quiet])).stdout);
    for (const destination of listed.destinations) {
      assert.deepEqual([destination.good.map((backup: { id: string }) => backup.id), destination.incomplete], [good, []]);
    }
    const leftovers = (await readdir(localDestination(), { recursive: true })).filter((name) => String(name).includes(".tmp-"));
    assert.deepEqual(leftovers, []);
    assert.ok(!existsSync(join(dataDir(), "backup-work")) || (await readdir(join(dataDir(), "backup-work"))).length === 0);
  });

  it("`backup run --continuous` ships changes at the configured interval until stopped", async () => {
    const file = join(dir, "continuous.json");
    const config = JSON.parse(await (await import("node:fs/promises")).readFile(join(dir, "quiet.json"), "utf8"));
    config.backup.continuousIntervalSeconds = 10;
    await writeFile(file, JSON.stringify(config));
    const child = spawn(process.execPath, [cliPath, "backup", "run", "--continuous", "--config", file], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? "null") as { ok: boolean; createdAt: string; destinations: { blobsCopied: number }[] } | null;
    const first = await next();
    assert.equal(first?.ok, true, stderr);
    await addBlobs(1, 1000);
    const second = await next();
    assert.equal(second?.ok, true, stderr);
    assert.deepEqual(second.destinations.map((outcome) => outcome.blobsCopied), [1, 1]);
    const gap = Date.parse(second.createdAt) - Date.parse(first!.createdAt);
    assert.ok(gap >= 10_000 && gap < 20_000, `interval ${gap} ms`);
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, stderr);
  });
});
