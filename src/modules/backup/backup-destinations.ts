// Backup destinations are blob stores (a directory with atomic writes, or an S3-compatible bucket):
// they only ever receive sealed parts, blobs that are already ciphertext, and signed manifests.
//
// Layout on every destination:
//   backups/<id>/db.part        the database snapshot, sealed
//   backups/<id>/index.part     which blob store key holds which blob, sealed
//   backups/<id>/manifest.json  written last, once every part is verified: only then is the backup good
//   blobs/<aa>/<sha256>         blobs by content, shared by all backups (copied once)
//   shredded/<tenant id>        companies erased since: a restore destroys their keys again
import { createHash, randomBytes, webcrypto, type Hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Digest } from "./backup-digests.ts";
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
  /**
   * Directories only: writes a blob under its content address, learning the SHA-256 while writing
   * (temp file, fsync, rename), so a blob never seen before is read once, not hashed first and copied after.
   * The renames are durable once flushContent() has synced the directories.
   */
  putContent?(source: Readable): Promise<Digest>;
  /** Directories only: putContent for bytes already in memory. */
  putBytes?(bytes: Buffer): Promise<Digest>;
  flushContent?(): Promise<void>;
  close(): void;
};

export const manifestKey = (id: string) => `backups/${id}/manifest.json`;
export const partKey = (id: string, part: string) => `backups/${id}/${part}`;
export const blobKeyOf = (sha256: string) => `blobs/${sha256.slice(0, 2)}/${sha256}`;
export const shreddedKey = (tenantId: string) => `shredded/${tenantId.toLowerCase()}`;

export function openBackupDestination(config: BackupDestinationConfig): BackupDestination {
  if (config.kind === "directory") {
    const store = createFileBlobStore(config.path);
    return { name: config.name, kind: "directory", store, cleanupTempFiles: () => store.cleanupTempFiles(), ...contentWriter(config.path), close() {} };
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

// The temp name is the file blob store's own pattern, so its cleanupTempFiles removes what a crash leaves.
//
// The copy is checked on the write path, not by reading it back: each chunk is hashed and then handed
// to write() unchanged (short writes are retried), so the SHA-256 is of exactly the bytes written; after
// fsync the file's size must equal the bytes written. A read-back right after the write would come from
// the page cache, i.e. return the same buffers the kernel just took from us: it cannot see a bad disk,
// and it found nothing this check does not (see docs/architecture.md, Backups). `backup verify` reads
// from the disk when asked to.
function contentWriter(root: string): Pick<BackupDestination, "putContent" | "putBytes" | "flushContent"> {
  const blobsDir = join(root, "blobs");
  const dirty = new Set<string>();
  const made = new Set<string>();
  const ensureDir = async (dir: string) => {
    if (made.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    made.add(dir);
  };
  // Temp file, the bytes and their digest, fsync, size check, rename to the content address.
  const writeContent = async (write: (handle: FileHandle) => Promise<Digest>): Promise<Digest> => {
    await ensureDir(blobsDir);
    const temp = join(blobsDir, `.tmp-${randomBytes(16).toString("hex")}`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, "wx", 0o600);
      const digest = await write(handle);
      await handle.sync();
      const written = (await handle.stat()).size;
      await handle.close();
      handle = undefined;
      if (written !== digest.size) throw new AppError("backup_failed", `a blob was ${written} bytes on disk after ${digest.size} were written`);
      const dir = join(blobsDir, digest.sha256.slice(0, 2));
      await ensureDir(dir);
      await rename(temp, join(dir, digest.sha256));
      dirty.add(dir);
      return digest;
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  };
  return {
    putContent(source) {
      return writeContent(async (handle) => {
        // A blob read in one chunk is hashed by WebCrypto in the thread pool while it is written, off
        // the event loop's core; a second chunk switches to an incremental hash over all of them.
        let hash: Hash | undefined;
        let first: { chunk: Buffer; digest: Promise<ArrayBuffer> } | undefined;
        let size = 0;
        for await (const chunk of source as AsyncIterable<Buffer>) {
          if (first === undefined && hash === undefined) {
            const digest = webcrypto.subtle.digest("SHA-256", chunk);
            digest.catch(() => undefined); // awaited below unless a second chunk comes
            first = { chunk, digest };
          } else {
            if (hash === undefined) {
              hash = createHash("sha256");
              hash.update(first!.chunk);
              first = undefined;
            }
            hash.update(chunk);
          }
          await writeFully(handle, chunk);
          size += chunk.length;
        }
        const sha256 = hash ? hash.digest("hex") : first ? Buffer.from(await first.digest).toString("hex") : createHash("sha256").digest("hex");
        return { sha256, size };
      });
    },
    putBytes(bytes) {
      // Hashed here rather than by WebCrypto, which would first copy the bytes (a fresh allocation per
      // blob is what the caller's reused buffers avoid).
      return writeContent(async (handle) => {
        const sha256 = createHash("sha256").update(bytes).digest("hex");
        await writeFully(handle, bytes);
        return { sha256, size: bytes.length };
      });
    },
    async flushContent() {
      if (dirty.size === 0) return;
      for (const dir of [...dirty, blobsDir, root]) {
        const handle = await open(dir, "r");
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      dirty.clear();
    },
  };
}

async function writeFully(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
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

// A person's key owner is "user:<id>"; a blob key may not hold ":", so it is stored as "user.<id>".
export function shreddedKeyOwnerName(keyOwner: string): string {
  return keyOwner.startsWith("user:") ? `user.${keyOwner.slice("user:".length)}` : keyOwner;
}

export function keyOwnerOfShreddedName(name: string): string {
  return name.startsWith("user.") ? `user:${name.slice("user.".length)}` : name;
}

export async function listShreddedTenants(destination: BackupDestination): Promise<string[]> {
  const ids: string[] = [];
  for await (const key of destination.store.list("shredded/")) ids.push(key.slice("shredded/".length));
  return ids;
}
