// Builds a backup context from configuration and an open runtime (for the CLI and the schedule).
import { join } from "node:path";
import type { Config } from "../../config/config.ts";
import { databaseConfigOf, type Runtime } from "../../runtime/open-runtime.ts";
import type { BackupDestination } from "./backup-destinations.ts";
import type { BackupContext } from "./run-backup.ts";

export function backupWorkDir(config: Config): string {
  return join(config.dataDir, "backup-work");
}

export function backupContextOf(runtime: Runtime, destinations: BackupDestination[], extra: Partial<BackupContext> = {}): BackupContext {
  const config = runtime.config;
  return {
    db: runtime.database.db,
    databaseConfig: databaseConfigOf(config),
    blobStore: runtime.blobStore,
    vault: runtime.vault,
    destinations,
    workDir: backupWorkDir(config),
    retentionDays: config.backup.retentionDays,
    leaseSeconds: config.backup.leaseSeconds,
    postgresBinDir: config.backup.postgresBinDir,
    ...extra,
  };
}
