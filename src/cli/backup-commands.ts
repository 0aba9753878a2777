// `strongroom backup run|list|verify|restore`. Exit codes: 0 done, 1 failed (a destination without a
// verified copy, a problem found by verify), 2 usage error.
import { existsSync } from "node:fs";
import type { Config } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import { findDestination, openBackupDestinations, type BackupDestination } from "../modules/backup/backup-destinations.ts";
import { backupContextOf, backupWorkDir } from "../modules/backup/backup-runtime.ts";
import { listBackups, readManifest } from "../modules/backup/list-backups.ts";
import { restoreBackup } from "../modules/backup/restore-backup.ts";
import { runBackup, type BackupProgress, type BackupRunSummary } from "../modules/backup/run-backup.ts";
import { verifyBackup } from "../modules/backup/verify-backup.ts";
import { databaseConfigOf, openBlobStore, openRuntime } from "../runtime/open-runtime.ts";
import { type Output, readSecretLines, UsageError } from "./cli-io.ts";
import { unsealForCommand } from "./unseal-for-command.ts";

export type BackupFlags = { json?: boolean | undefined; continuous?: boolean | undefined; destination?: string | undefined };

export async function runBackupCommand(verb: string | undefined, args: string[], flags: BackupFlags, config: Config, io: Output): Promise<number> {
  const id = args[0];
  if (args.length > (verb === "verify" || verb === "restore" ? 1 : 0)) throw new UsageError(`unexpected argument ${args[args.length - 1]}`);
  if ((verb === "verify" || verb === "restore") && !id) throw new UsageError(`backup ${verb} needs a backup ID`);
  if (verb === "restore" && !flags.destination) throw new UsageError("backup restore needs --destination NAME");
  if (verb === "run" || verb === "list" || verb === "verify" || verb === "restore") {
    if (config.backup.destinations.length === 0) throw new AppError("config_invalid", "no backup destination is configured (backup.destinations)");
  }
  const destinations = openBackupDestinations(config.backup.destinations);
  try {
    switch (verb) {
      case "run":
        return await run(flags, config, destinations, io);
      case "list":
        return await list(flags, destinations, io);
      case "verify":
        return await verify(id!, flags, config, destinations, io);
      case "restore":
        return await restore(id!, flags, config, destinations, io);
      default:
        throw new UsageError(`unknown backup command ${verb ?? "(none)"}: use run, list, verify or restore`);
    }
  } finally {
    for (const destination of destinations) destination.close();
  }
}

async function run(flags: BackupFlags, config: Config, destinations: BackupDestination[], io: Output): Promise<number> {
  // The server may be running: its blob store's temporary files (uploads in progress) are not ours to remove.
  const runtime = await openRuntime(config);
  try {
    await unsealForCommand(runtime, config);
    const bar = !flags.json && process.stderr.isTTY ? progressBar() : undefined;
    const once = async (): Promise<BackupRunSummary> => {
      const summary = await runBackup(backupContextOf(runtime, destinations, { onProgress: bar?.update }));
      bar?.done();
      if (flags.json || flags.continuous || !process.stdout.isTTY) io.out(JSON.stringify(summary));
      else io.out(describeRun(summary));
      return summary;
    };
    if (!flags.continuous) return (await once()).ok ? 0 : 1;
    // Continuous mode: a backup every interval (each only copies what changed), until stopped.
    let stop = false;
    let wake: (() => void) | undefined;
    const onSignal = () => {
      stop = true;
      wake?.();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let failures = 0;
    while (!stop) {
      const summary = await once().catch((error: unknown) => {
        io.err(`error: ${error instanceof AppError ? `${error.code}: ${error.message}` : String(error)}`);
        return undefined;
      });
      if (!summary?.ok) failures += 1;
      if (stop) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, config.backup.continuousIntervalSeconds * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return failures === 0 ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

async function list(flags: BackupFlags, destinations: BackupDestination[], io: Output): Promise<number> {
  const chosen = flags.destination ? [findDestination(destinations, flags.destination)] : destinations;
  const results = [];
  for (const destination of chosen) results.push({ destination: destination.name, ...(await listBackups(destination)) });
  if (flags.json) {
    io.out(JSON.stringify({ destinations: results }));
    return 0;
  }
  for (const result of results) {
    io.out(`${result.destination}: ${result.good.length} good backup(s)`);
    for (const backup of result.good) io.out(`  ${backup.id}  ${backup.createdAt}  ${backup.database}  ${backup.blobs} blob(s)  ${formatBytes(backup.bytes)}`);
    for (const id of result.incomplete) io.out(`  ${id}  INCOMPLETE (no manifest: not restorable; removed by the next good run)`);
    for (const entry of result.unreadable) io.out(`  ${entry.id}  UNREADABLE: ${entry.problem}`);
  }
  return 0;
}

async function verify(id: string, flags: BackupFlags, config: Config, destinations: BackupDestination[], io: Output): Promise<number> {
  // The installation's own service keys, when there is one, are what the signature must match.
  // (An embedded data directory without a database is not created just to find none.)
  let trusted: { id: string; publicKeyPem: string }[] = [];
  if (config.database.kind === "postgres" || existsSync(config.databasePath)) {
    const runtime = await openRuntime(config);
    try {
      trusted = await runtime.vault.serviceKey.publicKeys();
    } finally {
      await runtime.close();
    }
  }
  const chosen = flags.destination ? [findDestination(destinations, flags.destination)] : destinations;
  const reports = [];
  for (const destination of chosen) reports.push(await verifyBackup(destination, id, trusted));
  if (flags.json) io.out(JSON.stringify({ ok: reports.every((report) => report.ok), reports }));
  else {
    for (const report of reports) {
      io.out(`${report.ok ? "ok    " : "BROKEN"}  ${report.destination}: backup ${id}, ${report.partsChecked} part(s) checked${trusted.length === 0 ? " (no local installation: signature checked against the key the manifest names)" : ""}`);
      for (const problem of report.problems) io.out(`        - ${problem.part}: ${problem.problem}`);
    }
  }
  return reports.every((report) => report.ok) ? 0 : 1;
}

async function restore(id: string, flags: BackupFlags, config: Config, destinations: BackupDestination[], io: Output): Promise<number> {
  const destination = findDestination(destinations, flags.destination);
  const { manifest } = await readManifest(destination, id).catch((error: unknown) => {
    throw error instanceof AppError && error.code === "blob_not_found" ? new AppError("not_found", `no good backup ${id} on destination ${destination.name}`) : error;
  });
  const shares = await readSecretLines(manifest.seal.threshold, "unseal share");
  const blobStore = await openBlobStore(config);
  const bar = !flags.json && process.stderr.isTTY ? progressBar() : undefined;
  const summary = await restoreBackup({
    destination, id, shares, databaseConfig: databaseConfigOf(config), blobStore, workDir: backupWorkDir(config),
    postgresBinDir: config.backup.postgresBinDir, onProgress: bar?.update,
  });
  bar?.done();
  if (flags.json) io.out(JSON.stringify(summary));
  else {
    io.out(`restored backup ${summary.id} (${summary.createdAt}) from ${summary.destination}: database and ${summary.blobs} blob(s)`);
    if (summary.shreddedTenants.length > 0) io.out(`keys destroyed again for ${summary.shreddedTenants.length} erased company(ies)`);
    io.out("the restored installation starts sealed: the key custodians unseal it with their shares");
  }
  return 0;
}

function describeRun(summary: BackupRunSummary): string {
  const lines = [`backup ${summary.id}: ${summary.ok ? "OK" : "FAILED"} in ${(summary.durationMs / 1000).toFixed(1)} s, ${summary.blobs.count} blob(s), ${formatBytes(summary.blobs.bytes)}`];
  for (const outcome of summary.destinations) {
    lines.push(`  ${outcome.ok ? "ok    " : "FAILED"}  ${outcome.name}: ${outcome.blobsCopied} new blob(s), ${formatBytes(outcome.bytesCopied)} written${outcome.error ? ` — ${outcome.error}` : ""}`);
  }
  for (const pruned of summary.pruned) {
    if (pruned.removedBackups.length || pruned.removedIncomplete.length || pruned.removedBlobs || pruned.problem) {
      lines.push(`  pruned ${pruned.destination}: ${pruned.removedBackups.length} expired, ${pruned.removedIncomplete.length} incomplete, ${pruned.removedBlobs} blob(s)${pruned.problem ? ` — ${pruned.problem}` : ""}`);
    }
  }
  return lines.join("\n");
}

function progressBar(): { update(progress: BackupProgress | { phase: string; done: number; total: number }): void; done(): void } {
  let last = 0;
  return {
    update(progress) {
      const now = Date.now();
      if (now - last < 100 && progress.done !== progress.total) return;
      last = now;
      const width = 30;
      const filled = progress.total === 0 ? width : Math.round((progress.done / progress.total) * width);
      process.stderr.write(`\r${progress.phase.padEnd(9)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${progress.done}/${progress.total}   `);
    },
    done() {
      process.stderr.write("\n");
    },
  };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
