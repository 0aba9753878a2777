// Retention: backups older than the configured age are removed (manifest first, so a half-pruned
// backup is never listed as good), then leftovers of unfinished runs, then blobs that no kept
// manifest names. The newest good backup is always kept.
import { blobKeyOf, manifestKey, type BackupDestination } from "./backup-destinations.ts";
import { backupIdsOn, readManifest } from "./list-backups.ts";

export type PruneOutcome = { destination: string; removedBackups: string[]; removedIncomplete: string[]; removedBlobs: number; problem?: string };

export async function pruneDestination(destination: BackupDestination, options: { retentionDays: number; now: Date; currentId?: string }): Promise<PruneOutcome> {
  const outcome: PruneOutcome = { destination: destination.name, removedBackups: [], removedIncomplete: [], removedBlobs: 0 };
  try {
    const cutoff = options.now.getTime() - options.retentionDays * 24 * 3600 * 1000;
    const { withManifest, withoutManifest } = await backupIdsOn(destination);
    const kept: { id: string; blobs: string[] }[] = [];
    const expired: string[] = [];
    let unreadable = false;
    const manifests: { id: string; createdAt: number; blobs: string[] }[] = [];
    for (const id of withManifest) {
      try {
        const { manifest } = await readManifest(destination, id);
        manifests.push({ id, createdAt: Date.parse(manifest.createdAt), blobs: manifest.blobs.map((blob) => blob.sha256) });
      } catch {
        // Not ours to judge here (verify reports it); keep it, and keep every blob, to be safe.
        unreadable = true;
      }
    }
    const newest = manifests.reduce<(typeof manifests)[number] | undefined>((best, entry) => (!best || entry.createdAt > best.createdAt ? entry : best), undefined);
    for (const entry of manifests) {
      if (entry.createdAt < cutoff && entry !== newest) expired.push(entry.id);
      else kept.push(entry);
    }
    for (const id of expired) {
      await destination.store.delete(manifestKey(id));
      await removeBackupFiles(destination, id);
      outcome.removedBackups.push(id);
    }
    for (const id of withoutManifest) {
      if (id === options.currentId) continue;
      await removeBackupFiles(destination, id);
      outcome.removedIncomplete.push(id);
    }
    if (unreadable) {
      outcome.problem = "a manifest could not be read: no blobs were removed";
      return outcome;
    }
    const referenced = new Set(kept.flatMap((entry) => entry.blobs.map(blobKeyOf)));
    const unreferenced: string[] = [];
    for await (const key of destination.store.list("blobs/")) if (!referenced.has(key)) unreferenced.push(key);
    for (const key of unreferenced) {
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
