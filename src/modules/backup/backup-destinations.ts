// Backup destinations are blob stores (a directory with atomic writes, or an S3-compatible bucket):
// they only ever receive sealed parts, blobs that are already ciphertext, and signed manifests.
//
// Layout on every destination:
//   backups/<id>/db.part        the database snapshot, sealed
//   backups/<id>/index.part     which blob store key holds which blob, sealed
//   backups/<id>/manifest.json  written last, once every part is verified: only then is the backup good
//   blobs/<aa>/<sha256>         blobs by content, shared by all backups (copied once)
//   shredded/<tenant id>        companies erased since: a restore destroys their keys again
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { AppError } from "../../errors/app-error.ts";
import type { BlobStore } from "../../store/blob-store.ts";
import { createFileBlobStore } from "../../store/blob-store-fs.ts";
import { createS3BlobStore } from "../../store/blob-store-s3.ts";
import type { BackupDestinationConfig } from "./backup-config.ts";

export type BackupDestination = {
  name: string;
  kind: "directory" | "s3";
  store: BlobStore;
  /** Removes temporary files of writes a crash interrupted (directories); only while holding the backup lease. */
  cleanupTempFiles(): Promise<number>;
  close(): void;
};

export const manifestKey = (id: string) => `backups/${id}/manifest.json`;
export const partKey = (id: string, part: string) => `backups/${id}/${part}`;
export const blobKeyOf = (sha256: string) => `blobs/${sha256.slice(0, 2)}/${sha256}`;
export const shreddedKey = (tenantId: string) => `shredded/${tenantId.toLowerCase()}`;

export function openBackupDestination(config: BackupDestinationConfig): BackupDestination {
  if (config.kind === "directory") {
    const store = createFileBlobStore(config.path);
    return { name: config.name, kind: "directory", store, cleanupTempFiles: () => store.cleanupTempFiles(), close() {} };
  }
  let ca: string | undefined;
  if (config.caFile) {
    try {
      ca = readFileSync(config.caFile, "utf8");
    } catch {
      throw new AppError("config_invalid", `invalid configuration:\n  - backup.destinations.${config.name}.caFile: cannot read ${config.caFile}`);
    }
  }
  const store = createS3BlobStore({
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    region: config.region,
    bucket: config.bucket,
    prefix: config.prefix,
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    forcePathStyle: config.forcePathStyle,
    ...(ca !== undefined ? { tls: { ca, rejectUnauthorized: true } } : {}),
  });
  // An upload a crash interrupted never completes, so no object appears; nothing to clean here.
  return { name: config.name, kind: "s3", store, cleanupTempFiles: async () => 0, close: () => store.close() };
}

export function openBackupDestinations(configs: BackupDestinationConfig[]): BackupDestination[] {
  return configs.map(openBackupDestination);
}

export function findDestination(destinations: BackupDestination[], name: string | undefined): BackupDestination {
  const found = name === undefined ? destinations[0] : destinations.find((destination) => destination.name === name);
  if (!found) {
    throw new AppError("not_found", name === undefined ? "no backup destination is configured (backup.destinations)" : `no backup destination named ${name}`);
  }
  return found;
}

/**
 * Records at every destination that a company's keys were destroyed (crypto-shredding), so that a
 * restore of an older backup destroys them again. The erasure code calls this after destroying keys.
 */
export async function recordShreddedTenant(destinations: BackupDestination[], tenantId: string, now: Date = new Date()): Promise<void> {
  const body = Buffer.from(JSON.stringify({ tenantId, shreddedAt: now.toISOString() }));
  for (const destination of destinations) await destination.store.put(shreddedKey(tenantId), Readable.from([body]));
}

export async function listShreddedTenants(destination: BackupDestination): Promise<string[]> {
  const ids: string[] = [];
  for await (const key of destination.store.list("shredded/")) ids.push(key.slice("shredded/".length));
  return ids;
}
