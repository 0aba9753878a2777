// The built-in schedule: every node ticks, and the one that claims the slot (a day, or an interval
// when intervalMinutes is set) runs the backup under the lease, so a cluster backs up once per slot.
import { rm } from "node:fs/promises";
import type { Config } from "../../config/config.ts";
import { isAppError } from "../../errors/app-error.ts";
import type { Logger } from "../../log/logger.ts";
import type { Runtime } from "../../runtime/open-runtime.ts";
import { openBackupDestinations } from "./backup-destinations.ts";
import { acquireBackupLease, claimScheduleSlot } from "./backup-lease.ts";
import { backupContextOf, backupWorkDir } from "./backup-runtime.ts";
import { runBackup } from "./run-backup.ts";

const tickMs = 30_000;

/** The slot due at this time, or undefined before today's hour. Slots sort as strings. */
export function dueSlot(schedule: Config["backup"]["schedule"], now: Date): string | undefined {
  if (schedule.intervalMinutes !== undefined) return `i${String(Math.floor(now.getTime() / (schedule.intervalMinutes * 60_000))).padStart(12, "0")}`;
  if (now.getUTCHours() < schedule.hourUtc) return undefined;
  return `d${now.toISOString().slice(0, 10)}`;
}

export function startBackupSchedule(runtime: Runtime, log: Logger): { stop(): Promise<void> } {
  const config = runtime.config.backup;
  if (!config.schedule.enabled || config.destinations.length === 0) return { stop: async () => {} };
  const destinations = openBackupDestinations(config.destinations);
  let running: Promise<void> | undefined;
  let stopped = false;
  let cleaned = false;

  const tick = async () => {
    if (!cleaned) {
      // A node killed mid-backup may have left its plaintext snapshot behind: remove it at once.
      // Under the lease (another node may be mid-run); a dead holder's lease expires, so retry each tick.
      const lease = await acquireBackupLease(runtime.database.db, config.leaseSeconds).catch(() => undefined);
      if (lease) {
        await rm(backupWorkDir(runtime.config), { recursive: true, force: true }).catch(() => undefined);
        await lease.release();
        cleaned = true;
      }
    }
    if (stopped || runtime.vault.isSealed()) return;
    const slot = dueSlot(config.schedule, new Date());
    if (slot === undefined || !(await claimScheduleSlot(runtime.database.db, slot))) return;
    log.info({ event: "backup_started", slot }, "scheduled backup started");
    try {
      const summary = await runBackup(backupContextOf(runtime, destinations));
      const failed = summary.destinations.filter((outcome) => !outcome.ok).map((outcome) => ({ name: outcome.name, error: outcome.error }));
      if (summary.ok) log.info({ event: "backup_finished", id: summary.id, durationMs: summary.durationMs, blobs: summary.blobs.count }, "scheduled backup finished");
      else log.error({ event: "backup_failed", id: summary.id, failed }, "scheduled backup failed: not every destination has a verified copy");
    } catch (error) {
      log.error({ event: "backup_failed", err: error, reason: isAppError(error) ? error.code : undefined }, "scheduled backup failed");
    }
  };
  const run = () => {
    if (running) return;
    running = tick().catch((error: unknown) => log.error({ err: error }, "backup schedule tick failed")).finally(() => {
      running = undefined;
    });
  };
  const first = setTimeout(run, 1000);
  const timer = setInterval(run, tickMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
      for (const destination of destinations) destination.close();
    },
  };
}
