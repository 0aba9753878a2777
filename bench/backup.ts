// Backups: time and throughput of a first backup of 2 GiB across 5,000 documents, next to
// `restic backup` (Debian) of the same data directory in the same run, and a second, incremental
// backup after 1% of the documents got a new version (target: under 10% of the first).
//
// The documents are written directly through the store layer (createFileBlobStore.put, atomic with
// fsync), not through the upload route: the upload path has its own benchmark, and the blobs' bytes
// are random, which is what sealed ciphertext looks like to both tools (neither can compress or
// deduplicate it). Both tools write to a directory on the same disk, page cache warm for both.
// Both are run as their command-line programs (`strongroom backup run`, `restic backup`), timed from
// start to exit. Ours checks every blob copy on its write path (SHA-256 of the bytes written, size after
// fsync) and reads back the parts and the manifest; restic does neither read-back.
// Needs restic (Debian). Uses about 7 GiB of temporary disk.
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { createFileBlobStore } from "../src/store/blob-store-fs.ts";
import { runCli } from "../test/support/server-process.ts";
import { compareToReference, type BenchResult } from "./support/bench-result.ts";
import { openUnsealedDatabase } from "./support/unsealed-database.ts";

const run = promisify(execFile);
const GiB = 1024 ** 3;
const documents = 5000;
const totalBytes = 2 * GiB;
const changedShare = 0.01;

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = process.hrtime.bigint();
  const result = await work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

export default async function backupBench(): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), "sr-bench-backup-"));
  try {
    const dataDir = join(root, "data");
    await mkdir(dataDir, { recursive: true });
    const databaseConfig = { kind: "sqlite" as const, path: join(dataDir, "strongroom.db") };
    const { database, vault, share } = await openUnsealedDatabase(databaseConfig.path);
    const blobStore = createFileBlobStore(join(dataDir, "blobs"));

    // Sizes vary from 0.5x to 1.5x the mean and add up to exactly 2 GiB.
    const mean = totalBytes / documents;
    const sizes = Array.from({ length: documents }, (_, index) => Math.round(mean * (0.5 + (index % 101) / 100)));
    const drift = totalBytes - sizes.reduce((sum, size) => sum + size, 0);
    sizes[0]! += drift;
    const tenants = Array.from({ length: 20 }, () => randomUUID());
    const keys: string[] = [];
    process.stdout.write("writing 2 GiB across 5,000 documents…\n");
    for (const [index, size] of sizes.entries()) {
      const key = `t/${tenants[index % tenants.length]}/d/${randomUUID()}/v1-${randomBytes(8).toString("hex")}`;
      await blobStore.put(key, Readable.from([randomBytes(size)]));
      keys.push(key);
    }

    await vault.seal();
    await database.close();
    const configFile = join(root, "config.json");
    await writeFile(configFile, JSON.stringify({
      dataDir, database: databaseConfig, blobStore: { kind: "fs", directory: join(dataDir, "blobs") }, logLevel: "warn",
      backup: { destinations: [{ name: "bench", kind: "directory", path: join(root, "backup") }] },
    }));
    const strongroomBackup = async () => {
      const ran = await runCli(["backup", "run", "--json", "--config", configFile], { stdin: `${share}\n` });
      if (ran.code !== 0) throw new Error(`strongroom backup run failed: ${ran.stderr}${ran.stdout}`);
      return JSON.parse(ran.stdout) as { ok: boolean; durationMs: number; blobs: { count: number } };
    };
    // Each timed run starts on a settled disk: `sync` first, so no run pays for the write-back of what
    // came before it (the 2 GiB just generated, or the other program's backup). Both programs are run
    // once untimed before (restic init; strongroom backup list, which also fills Node's compile cache).
    const settle = () => run("sync", []);
    const listed = await runCli(["backup", "list", "--json", "--config", configFile]);
    if (listed.code !== 0) throw new Error(`strongroom backup list failed: ${listed.stderr}${listed.stdout}`);
    process.stdout.write("strongroom backup run (first)…\n");
    await settle();
    const first = await timed(strongroomBackup);

    const repo = join(root, "restic");
    const env = { ...process.env, RESTIC_PASSWORD: "bench-only-password", RESTIC_CACHE_DIR: join(root, "restic-cache") };
    await run("restic", ["init", "--repo", repo], { env });
    process.stdout.write("restic backup (first)…\n");
    await settle();
    const resticFirst = await timed(() => run("restic", ["backup", "--repo", repo, "--quiet", dataDir], { env, maxBuffer: 1 << 24 }));

    // 1% of the documents get a new version: a new blob of the same size beside the old one.
    for (let index = 0; index < documents * changedShare; index++) {
      const key = keys[index * Math.floor(1 / changedShare)]!.replace(/\/v1-[0-9a-f]+$/, `/v2-${randomBytes(8).toString("hex")}`);
      await blobStore.put(key, Readable.from([randomBytes(sizes[index]!)]));
    }
    process.stdout.write("strongroom backup run (incremental)…\n");
    await settle();
    const second = await timed(strongroomBackup);
    process.stdout.write(`  first ${first.seconds.toFixed(2)} s (the run itself ${first.result.durationMs} ms), incremental ${second.seconds.toFixed(2)} s (${second.result.durationMs} ms)\n`);
    process.stdout.write("restic backup (incremental)…\n");
    await settle();
    const resticSecond = await timed(() => run("restic", ["backup", "--repo", repo, "--quiet", dataDir], { env, maxBuffer: 1 << 24 }));

    const MiBps = (seconds: number) => totalBytes / (1024 * 1024) / seconds;
    return [
      compareToReference({
        name: "first backup of 2 GiB / 5,000 documents: time", value: first.seconds, unit: "s",
        reference: "restic backup of the same data directory", referenceValue: resticFirst.seconds,
        target: "faster than restic (ratio < 1)", meets: (_value, ratio) => ratio < 1,
      }),
      compareToReference({
        name: "first backup: throughput", value: MiBps(first.seconds), unit: "MiB/s",
        reference: "restic backup", referenceValue: MiBps(resticFirst.seconds),
        target: "higher than restic (ratio > 1)", meets: (_value, ratio) => ratio > 1,
      }),
      compareToReference({
        name: "incremental backup after 1% of documents changed: time", value: second.seconds, unit: "s",
        reference: "our first backup", referenceValue: first.seconds,
        target: "< 10% of the first (ratio < 0.1)", meets: (_value, ratio) => ratio < 0.1,
      }),
      compareToReference({
        name: "incremental backup: time next to restic's incremental", value: second.seconds, unit: "s",
        reference: "restic backup (incremental)", referenceValue: resticSecond.seconds,
        target: "informational (no target)", meets: () => true,
      }),
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
