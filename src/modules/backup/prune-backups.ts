// Retention: backups older than the configured age are removed (manifest first, so a half-pruned
// backup is never listed as good), then leftovers of unfinished runs, then blobs that no kept
// manifest names. The newest good backup is always kept.
//
// A manifest is read only when its contents can change the outcome: a backup whose id names a second
// after the cutoff is kept without reading (its createdAt lies within that second), and the kept
// manifests' blob lists are read only if the destination holds a blob the current backup does not name.
// With nothing expired and nothing deleted, a run reads no manifest at all (before: every kept one,
// ~5 MB each for 5,000 documents, every night).
import { blobKeyOf, manifestKey, type BackupDestination } from "./backup-destinations.ts";
import { timeOfBackupId } from "./backup-manifest.ts";
import { backupIdsOn, readManifest } from "./list-backups.ts";

export type PruneOutcome = { destination: string; removedBackups: string[]; removedIncomplete: string[]; removedBlobs: number; problem?: string };

export type PruneOptions = {
  retentionDays: number;
  now: Date;
  /** The backup this run just made good: its blob list need not be read back from its manifest. */
  current?: { id: string; blobs: string[] };
  /** Every blob key the destination holds, if the caller (holding the backup lease) just listed them. */
  blobKeys?: Iterable<string>;
};

type Backup = { id: string; createdAt?: number; blobs?: string[]; unreadable?: boolean };

export async function pruneDestination(destination: BackupDestination, options: PruneOptions): Promise<PruneOutcome> {
  const outcome: PruneOutcome = { destination: destination.name, removedBackups: [], removedIncomplete: [], removedBlobs: 0 };
  try {
    const cutoff = options.now.getTime() - options.retentionDays * 24 * 3600 * 1000;
    const { withManifest, withoutManifest } = await backupIdsOn(destination);
    const read = async (backup: Backup): Promise<void> => {
      if (backup.blobs !== undefined || backup.unreadable) return;
      try {
        const { manifest } = await readManifest(destination, backup.id);
        backup.createdAt = Date.parse(manifest.createdAt);
        backup.blobs = manifest.blobs.map((blob) => blob.sha256);
      } catch {
        // Not ours to judge here (verify reports it); keep it, and keep every blob, to be safe.
        backup.unreadable = true;
      }
    };
    const backups: Backup[] = [];
    for (const id of withManifest) {
      const backup: Backup = id === options.current?.id ? { id, createdAt: options.now.getTime(), blobs: options.current.blobs } : { id };
      const idTime = timeOfBackupId(id);
      if (backup.createdAt === undefined && (idTime === undefined || idTime < cutoff)) await read(backup);
      backups.push(backup);
    }
    // Known to be past the cutoff: read, readable, and created before it.
    const expirable = backups.filter((backup) => backup.createdAt !== undefined && backup.createdAt < cutoff && !backup.unreadable);
    if (expirable.length === backups.length && expirable.length > 0) {
      const newest = expirable.reduce((best, backup) => (backup.createdAt! > best.createdAt! ? backup : best));
      expirable.splice(expirable.indexOf(newest), 1);
    }
    for (const backup of expirable) {
      await destination.store.delete(manifestKey(backup.id));
      await removeBackupFiles(destination, backup.id);
      outcome.removedBackups.push(backup.id);
    }
    for (const id of withoutManifest) {
      if (id === options.current?.id) continue;
      await removeBackupFiles(destination, id);
      outcome.removedIncomplete.push(id);
    }

    const current = new Set(options.current?.blobs.map(blobKeyOf));
    const candidates: string[] = [];
    for await (const key of options.blobKeys ?? destination.store.list("blobs/")) if (!current.has(key)) candidates.push(key);
    if (candidates.length === 0) return outcome;
    const kept = backups.filter((backup) => !expirable.includes(backup));
    for (const backup of kept) await read(backup);
    if (kept.some((backup) => backup.unreadable)) {
      outcome.problem = "a manifest could not be read: no blobs were removed";
      return outcome;
    }
    const referenced = new Set(kept.flatMap((backup) => backup.blobs!.map(blobKeyOf)));
    for (const key of candidates) {
      if (referenced.has(key)) continue;
      await destination.store.delete(key);
      outcome.removedBlobs += 1;
    }
  } catch (error) {
    outcome.problem = error instanceof Error ? error.message : String(error);
  }
  return outcome;
}

async function removeBackupFiles(destination: BackupDestination, id: string): Promise<void> {
  const keys: string[] = [];
  for await (const key of destination.store.list(`backups/${id}/`)) keys.push(key);
  for (const key of keys) await destination.store.delete(key);
}
