// One backup at a time across nodes and processes: a lease row in the database, taken with a
// conditional update, renewed while the run lasts, and expiring by itself if its holder dies.
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";

const leaseName = "backup";

export type BackupLease = { holder: string; release(): Promise<void> };

export async function acquireBackupLease(db: Kysely<DatabaseSchema>, leaseSeconds: number, now: () => Date = () => new Date()): Promise<BackupLease> {
  const holder = randomBytes(12).toString("hex");
  await db.insertInto("backup_leases").values({ name: leaseName, holder: null, expires_at: null, last_slot: null })
    .onConflict((oc) => oc.column("name").doNothing()).execute();
  const take = async () => {
    const at = now();
    const result = await db.updateTable("backup_leases")
      .set({ holder, expires_at: new Date(at.getTime() + leaseSeconds * 1000).toISOString() })
      .where("name", "=", leaseName)
      .where((eb) => eb.or([eb("holder", "is", null), eb("holder", "=", holder), eb("expires_at", "<", at.toISOString())]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  };
  if (!(await take())) throw new AppError("backup_busy", "another backup is running (its lease has not expired)");
  // Renewal is best effort: a lost renewal only lets another run start after the lease expires.
  const timer = setInterval(() => void take().catch(() => undefined), Math.max(1000, (leaseSeconds * 1000) / 3));
  timer.unref();
  return {
    holder,
    async release() {
      clearInterval(timer);
      await db.updateTable("backup_leases").set({ holder: null, expires_at: null }).where("name", "=", leaseName).where("holder", "=", holder).execute();
    },
  };
}

/** Claims a schedule slot (e.g. a day) for this node; true for exactly one claimant per slot. */
export async function claimScheduleSlot(db: Kysely<DatabaseSchema>, slot: string): Promise<boolean> {
  await db.insertInto("backup_leases").values({ name: leaseName, holder: null, expires_at: null, last_slot: null })
    .onConflict((oc) => oc.column("name").doNothing()).execute();
  const result = await db.updateTable("backup_leases").set({ last_slot: slot }).where("name", "=", leaseName)
    .where((eb) => eb.or([eb("last_slot", "is", null), eb("last_slot", "<", slot)])).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
