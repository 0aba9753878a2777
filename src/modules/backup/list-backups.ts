// What a destination holds: good backups (a manifest is present) and leftovers of runs that never
// finished (parts without a manifest), which are never offered for restore.
import { isAppError } from "../../errors/app-error.ts";
import { manifestKey, type BackupDestination } from "./backup-destinations.ts";
import { maxManifestBytes, parseManifestFile, type BackupManifest, type ManifestFile } from "./backup-manifest.ts";

export type BackupListing = {
  good: { id: string; createdAt: string; database: string; blobs: number; bytes: number }[];
  incomplete: string[];
  unreadable: { id: string; problem: string }[];
};

export async function backupIdsOn(destination: BackupDestination): Promise<{ withManifest: string[]; withoutManifest: string[] }> {
  const ids = new Map<string, boolean>();
  for await (const key of destination.store.list("backups/")) {
    const [, id, name] = key.split("/");
    if (!id) continue;
    ids.set(id, (ids.get(id) ?? false) || name === "manifest.json");
  }
  const sorted = [...ids.keys()].sort();
  return { withManifest: sorted.filter((id) => ids.get(id)), withoutManifest: sorted.filter((id) => !ids.get(id)) };
}

export async function readManifest(destination: BackupDestination, id: string): Promise<{ file: ManifestFile; manifest: BackupManifest; bytes: Buffer }> {
  const source = await destination.store.get(manifestKey(id));
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxManifestBytes) {
      source.destroy();
      break;
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  return { ...parseManifestFile(length > maxManifestBytes ? Buffer.alloc(maxManifestBytes + 1) : bytes), bytes };
}

export async function listBackups(destination: BackupDestination): Promise<BackupListing> {
  const { withManifest, withoutManifest } = await backupIdsOn(destination);
  const listing: BackupListing = { good: [], incomplete: withoutManifest, unreadable: [] };
  for (const id of withManifest) {
    try {
      const { manifest } = await readManifest(destination, id);
      listing.good.push({
        id,
        createdAt: manifest.createdAt,
        database: manifest.database,
        blobs: manifest.blobs.length,
        bytes: manifest.blobs.reduce((sum, blob) => sum + blob.size, 0) + manifest.parts.reduce((sum, part) => sum + part.size, 0),
      });
    } catch (error) {
      listing.unreadable.push({ id, problem: isAppError(error) ? error.message : String(error) });
    }
  }
  // An id names only the second it was made in; the manifest's time (milliseconds) orders runs within it.
  listing.good.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return listing;
}

