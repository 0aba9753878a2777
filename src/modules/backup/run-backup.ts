// `backup run`: a consistent snapshot of the database and the blob store, sealed under the backup
// key, written to every destination, verified there, and only then made good by its signed manifest.
// A backup succeeds only when every destination has a verified copy; otherwise no manifest is left
// anywhere, and the summary says which destination failed and why.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Kysely } from "kysely";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { BlobStore, ByteRange } from "../../store/blob-store.ts";
import type { DatabaseConfig } from "../../store/database.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { BackupKeys } from "../../vault/backup-keys.ts";
import type { Vault } from "../../vault/vault.ts";
import { acquireBackupLease } from "./backup-lease.ts";
import { blobKeyOf, manifestKey, partKey, type BackupDestination } from "./backup-destinations.ts";
import { digestingPassThrough, digestOf, forEachLimited, type Digest } from "./backup-digests.ts";
import { backupIdAt, manifestFormat, type BackupManifest, type ManifestFile } from "./backup-manifest.ts";
import { snapshotDatabase } from "./database-snapshot.ts";
import { pruneDestination, type PruneOutcome } from "./prune-backups.ts";

export type BackupProgress = { phase: "database" | "blobs" | "copy" | "manifest" | "prune"; done: number; total: number };

export type BackupContext = {
  /** Copies in flight per destination (default: 16 to a directory, 4 to S3). */
  parallelism?: number;
  db: Kysely<DatabaseSchema>;
  databaseConfig: DatabaseConfig;
  blobStore: BlobStore;
  vault: Vault;
  destinations: BackupDestination[];
  /** Temporary files of a run (the plaintext snapshot lives here briefly): keep it beside the data. */
  workDir: string;
  retentionDays: number;
  leaseSeconds: number;
  postgresBinDir?: string | undefined;
  now?: () => Date;
  onProgress?: (progress: BackupProgress) => void;
};

export type DestinationOutcome = { name: string; ok: boolean; error?: string; blobsCopied: number; bytesCopied: number };

export type BackupRunSummary = {
  id: string;
  ok: boolean;
  createdAt: string;
  durationMs: number;
  database: { kind: DatabaseConfig["kind"]; sealedBytes: number };
  blobs: { count: number; bytes: number; hashedBytes: number };
  destinations: DestinationOutcome[];
  pruned: PruneOutcome[];
};

type BlobEntry = { key: string; sha256: string; size: number };
type Part = { name: "db.part" | "index.part"; file: string; digest: Digest };

// Blobs in flight. Each copy to a directory waits mostly on fsync (file and directory), so many in
// flight overlap those waits (the CLI gives libuv 16 threads for this; see bin/strongroom.js); an S3
// upload buffers up to three 5 MiB parts, so fewer there.
const parallelHashes = 16;
const parallelCopies = { directory: 16, s3: 4 } as const;
const maxIndexBytes = 512 * 1024 * 1024;

export async function runBackup(context: BackupContext): Promise<BackupRunSummary> {
  const now = context.now ?? (() => new Date());
  if (context.destinations.length === 0) throw new AppError("config_invalid", "no backup destination is configured (backup.destinations)");
  context.vault.requireUnsealed();
  const lease = await acquireBackupLease(context.db, context.leaseSeconds, now);
  const started = now();
  const id = backupIdAt(started, randomBytes(4).toString("hex"));
  const progress = context.onProgress ?? (() => {});
  const keys = context.vault.backupKeys();
  const work = join(context.workDir, id);
  try {
    // Leftovers of a run that was killed (it may have left a plaintext snapshot here): we hold the lease.
    await rm(context.workDir, { recursive: true, force: true });
    await mkdir(work, { recursive: true, mode: 0o700 });
    for (const destination of context.destinations) await destination.cleanupTempFiles().catch(() => 0);
    progress({ phase: "database", done: 0, total: 1 });
    const plainDatabase = join(work, "db.plain");
    await snapshotDatabase(context.databaseConfig, plainDatabase, context.postgresBinDir);
    const dbPart = await sealFile(keys, id, "db.part", createReadStream(plainDatabase), join(work, "db.part"));
    await rm(plainDatabase, { force: true });
    progress({ phase: "database", done: 1, total: 1 });

    // Listed after the snapshot: every blob the snapshot refers to was written before it. A blob not
    // seen before goes straight into the first directory destination, which learns its digest on the way.
    const outcomes = context.destinations.map((destination): DestinationOutcome => ({ name: destination.name, ok: false, blobsCopied: 0, bytesCopied: 0 }));
    const primaryIndex = context.destinations.findIndex((destination) => destination.putContent !== undefined);
    const primary = primaryIndex < 0 ? undefined : { destination: context.destinations[primaryIndex]!, outcome: outcomes[primaryIndex]!, failure: undefined as unknown };
    const blobs = await collectBlobs(context, progress, primary);
    const index = Buffer.from(JSON.stringify(blobs.entries.map(({ key, sha256, size }) => ({ key, sha256, size }))));
    if (index.length > maxIndexBytes) throw new AppError("backup_failed", "the blob index is larger than a backup can hold");
    const indexPart = await sealFile(keys, id, "index.part", Readable.from([index]), join(work, "index.part"));
    const parts: Part[] = [dbPart, indexPart];

    const unique = uniqueBlobs(blobs.entries);
    let copied = 0;
    // What each destination holds under blobs/ once its copies are done (the lease keeps other runs out).
    const held: Set<string>[] = context.destinations.map(() => new Set());
    await Promise.all(context.destinations.map(async (destination, index) => {
      const outcome = outcomes[index]!;
      try {
        if (primary?.destination === destination && primary.failure !== undefined) throw primary.failure;
        await writeParts(context, destination, id, parts, unique, outcome, held[index]!, () => progress({ phase: "copy", done: ++copied, total: unique.size * context.destinations.length }));
        outcome.ok = true;
      } catch (error) {
        outcome.error = describe(error);
      }
    }));

    let ok = outcomes.every((outcome) => outcome.ok);
    if (ok) {
      progress({ phase: "manifest", done: 0, total: outcomes.length });
      const manifest: BackupManifest = {
        format: manifestFormat,
        id,
        createdAt: started.toISOString(),
        installationId: (await context.vault.backupSealHeader()).installationId,
        database: context.databaseConfig.kind,
        seal: await sealOf(context.vault),
        parts: parts.map((part) => ({ name: part.name, ...part.digest })),
        blobs: [...unique.values()].map(({ sha256, size }) => ({ sha256, size })),
      };
      ok = await writeManifests(context, id, await signManifest(context.vault, keys, manifest), outcomes);
    }

    const pruned: PruneOutcome[] = [];
    // Retention runs only after a good backup, so failing backups never prune the last good ones.
    if (ok) {
      progress({ phase: "prune", done: 0, total: context.destinations.length });
      const current = { id, blobs: [...unique.keys()] };
      for (const [index, destination] of context.destinations.entries()) {
        pruned.push(await pruneDestination(destination, { retentionDays: context.retentionDays, now: now(), current, blobKeys: held[index] }));
      }
    }
    return {
      id,
      ok,
      createdAt: started.toISOString(),
      durationMs: now().getTime() - started.getTime(),
      database: { kind: context.databaseConfig.kind, sealedBytes: dbPart.digest.size },
      blobs: { count: blobs.entries.length, bytes: blobs.bytes, hashedBytes: blobs.hashedBytes },
      destinations: outcomes,
      pruned,
    };
  } finally {
    keys.forget();
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
    await lease.release().catch(() => undefined);
  }
}

async function sealOf(vault: Vault): Promise<BackupManifest["seal"]> {
  const header = await vault.backupSealHeader();
  return { threshold: header.threshold, shareCount: header.shareCount, rootKeyCiphertext: header.rootKeyCiphertext.toString("base64") };
}

async function sealFile(keys: BackupKeys, id: string, name: Part["name"], source: Readable, file: string): Promise<Part> {
  const tap = digestingPassThrough();
  await pipeline(source, keys.createSealStream(id, name), tap.stream, createWriteStream(file, { mode: 0o600 }));
  return { name, file, digest: tap.digest() };
}

// Blob keys are written once (a new version is a new key, a final PDF is named by its hash), so a key
// whose digest was recorded before names the same bytes: only blobs not seen before are looked at. (If
// such a blob has vanished or been damaged since, the copy the destinations already hold is the one
// this backup refers to.)
type Primary = { destination: BackupDestination; outcome: DestinationOutcome; failure: unknown };

async function collectBlobs(context: BackupContext, progress: (progress: BackupProgress) => void, primary: Primary | undefined): Promise<{ entries: BlobEntry[]; bytes: number; hashedBytes: number }> {
  const known = new Map<string, { size: number; sha256: string }>();
  for (const row of await context.db.selectFrom("backup_blob_digests").select(["store_key", "size", "sha256"]).execute()) {
    known.set(row.store_key, { size: Number(row.size), sha256: row.sha256 });
  }
  const keys: string[] = [];
  for await (const key of context.blobStore.list("")) keys.push(key);
  const found: (BlobEntry | undefined)[] = new Array(keys.length);
  let hashedBytes = 0;
  let done = 0;
  const learned: BlobEntry[] = [];
  const buffers = reusedBuffers();
  await forEachLimited(keys, parallelHashes, async (key, index) => {
    const cached = known.get(key);
    if (cached) {
      found[index] = { key, ...cached };
    } else {
      const digest = await learnDigest(context, key, primary, buffers);
      if (digest) {
        hashedBytes += digest.size;
        found[index] = { key, ...digest };
        learned.push({ key, ...digest });
      }
    }
    progress({ phase: "blobs", done: ++done, total: keys.length });
  });
  const entries = found.filter((entry): entry is BlobEntry => entry !== undefined);
  // One transaction per 500 rows: on SQLite every commit is an fsync.
  const recordedAt = new Date().toISOString();
  for (let start = 0; start < learned.length; start += 500) {
    const rows = learned.slice(start, start + 500);
    await context.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("backup_blob_digests").where("store_key", "in", rows.map((row) => row.key)).execute();
      await trx.insertInto("backup_blob_digests").values(rows.map((row) => ({ store_key: row.key, size: row.size, sha256: row.sha256, recorded_at: recordedAt }))).execute();
    });
  }
  // Forget digests of blobs that are gone, so the table does not grow without bound.
  const present = new Set(keys);
  const stale = [...known.keys()].filter((key) => !present.has(key));
  for (let start = 0; start < stale.length; start += 500) {
    await context.db.deleteFrom("backup_blob_digests").where("store_key", "in", stale.slice(start, start + 500)).execute();
  }
  return { entries, bytes: entries.reduce((sum, entry) => sum + entry.size, 0), hashedBytes };
}

// Reused read buffers, one per blob in flight: copying thousands of blobs then allocates (and the kernel
// zeroes) a few MiB, not every blob's size over again. Larger blobs are streamed.
const reusedBufferBytes = 1024 * 1024;

function reusedBuffers() {
  const free: Buffer[] = [];
  return {
    take: () => free.pop() ?? Buffer.allocUnsafe(reusedBufferBytes),
    give: (buffer: Buffer) => void free.push(buffer),
  };
}

// A blob not seen before: copied into the primary destination while its digest is learnt. A blob deleted
// since the listing (emptied trash) is simply not in this backup (undefined).
async function learnDigest(context: BackupContext, key: string, primary: Primary | undefined, buffers: ReturnType<typeof reusedBuffers>): Promise<Digest | undefined> {
  const gone = (error: unknown) => {
    if (isAppError(error) && error.code === "blob_not_found") return null;
    throw error;
  };
  if (context.blobStore.readInto) {
    const buffer = buffers.take();
    try {
      const bytes = await context.blobStore.readInto(key, buffer).catch(gone);
      if (bytes === null) return undefined;
      if (bytes) return await copyBytes(bytes, primary);
      // Larger than the buffer: streamed below.
    } finally {
      buffers.give(buffer);
    }
  }
  const stat = await context.blobStore.stat(key);
  const source = stat && (await context.blobStore.get(key, wholeBlob(stat.size)).catch(gone));
  return source ? copyUnseen(context, source, key, primary) : undefined;
}

async function copyBytes(bytes: Buffer, primary: Primary | undefined): Promise<Digest> {
  if (primary?.failure === undefined && primary?.destination.putBytes) {
    try {
      const digest = await primary.destination.putBytes(bytes);
      primary.outcome.blobsCopied += 1;
      primary.outcome.bytesCopied += digest.size;
      return digest;
    } catch (error) {
      primary.failure ??= error;
    }
  }
  return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
}

// Into the primary destination while hashing; if that destination fails, it is marked failed and the
// rest are only hashed (the other destinations still get their copies).
async function copyUnseen(context: BackupContext, source: Readable, key: string, primary: Primary | undefined): Promise<Digest> {
  if (!primary || primary.failure !== undefined) return digestOf(source);
  let digest: Digest;
  try {
    digest = await primary.destination.putContent!(source);
  } catch (error) {
    primary.failure ??= error;
    source.destroy();
    return digestOf(await context.blobStore.get(key));
  }
  primary.outcome.blobsCopied += 1;
  primary.outcome.bytesCopied += digest.size;
  return digest;
}

// A blob's known size as a range: the file store then reads it in one buffer of exactly that size, with
// no read to find the end and no copy of a short read (which otherwise costs more than the hashing).
function wholeBlob(size: number): ByteRange | undefined {
  return size > 0 ? { start: 0, end: size - 1 } : undefined;
}

function uniqueBlobs(entries: BlobEntry[]): Map<string, BlobEntry> {
  const unique = new Map<string, BlobEntry>();
  for (const entry of entries) if (!unique.has(entry.sha256)) unique.set(entry.sha256, entry);
  return unique;
}

async function writeParts(context: BackupContext, destination: BackupDestination, id: string, parts: Part[], blobs: Map<string, BlobEntry>, outcome: DestinationOutcome, present: Set<string>, copiedOne: () => void): Promise<void> {
  const store = destination.store;
  for await (const key of store.list("blobs/")) present.add(key);
  const missing = [...blobs.values()].filter((entry) => !present.has(blobKeyOf(entry.sha256)));
  await forEachLimited(missing, context.parallelism ?? parallelCopies[destination.kind], async (entry) => {
    const target = blobKeyOf(entry.sha256);
    const source = await context.blobStore.get(entry.key, wholeBlob(entry.size));
    let written: Digest;
    try {
      if (destination.putContent) {
        written = await destination.putContent(source);
      } else {
        const tap = digestingPassThrough();
        source.on("error", (error) => tap.stream.destroy(error));
        await store.put(target, source.pipe(tap.stream));
        written = tap.digest();
      }
    } finally {
      source.destroy(); // closes the file handle even when the destination failed mid-way
    }
    if (written.sha256 !== entry.sha256) {
      await store.delete(destination.putContent ? blobKeyOf(written.sha256) : target).catch(() => undefined);
      throw new AppError("backup_failed", `blob ${entry.key} changed while it was copied`);
    }
    // putContent checked its copy as it wrote it (see backup-destinations.ts); other stores are read back.
    if (!destination.putContent) await verifyCopy(store, target, entry);
    present.add(target);
    outcome.blobsCopied += 1;
    outcome.bytesCopied += entry.size;
    copiedOne();
  });
  await destination.flushContent?.();
  // Both parts at once: each write ends in an fsync of the file and of its directory, which overlap.
  await Promise.all(parts.map(async (part) => {
    const key = partKey(id, part.name);
    await store.put(key, createReadStream(part.file));
    await verifyCopy(store, key, part.digest);
    outcome.bytesCopied += part.digest.size;
  }));
}

async function verifyCopy(store: BlobStore, key: string, expected: Digest): Promise<void> {
  const found = await digestOf(await store.get(key));
  if (found.sha256 !== expected.sha256 || found.size !== expected.size) {
    throw new AppError("backup_failed", `${key} does not read back as written`);
  }
}

async function signManifest(vault: Vault, keys: BackupKeys, manifest: BackupManifest): Promise<Buffer> {
  const body = JSON.stringify(manifest);
  const signature = await vault.serviceKey.sign(Buffer.from(body, "utf8"));
  const publicKey = (await vault.serviceKey.publicKeys()).find((key) => key.id === signature.keyId);
  if (!publicKey) throw new AppError("backup_failed", "the service signing key has no public key on record");
  const file: ManifestFile = { body, mac: keys.mac(body), signature: { ...signature, publicKeyPem: publicKey.publicKeyPem } };
  return Buffer.from(JSON.stringify(file));
}

// The manifest makes a backup good, so it goes everywhere or nowhere: if one destination refuses it,
// the copies already written elsewhere are removed again.
async function writeManifests(context: BackupContext, id: string, bytes: Buffer, outcomes: DestinationOutcome[]): Promise<boolean> {
  const written: BackupDestination[] = [];
  const expected = await digestOf(Readable.from([bytes]));
  for (const [index, destination] of context.destinations.entries()) {
    try {
      await destination.store.put(manifestKey(id), Readable.from([bytes]));
      const back = await digestOf(await destination.store.get(manifestKey(id)));
      if (back.sha256 !== expected.sha256 || back.size !== expected.size) throw new AppError("backup_failed", "the manifest does not read back as written");
      written.push(destination);
    } catch (error) {
      outcomes[index]!.ok = false;
      outcomes[index]!.error = `manifest: ${describe(error)}`;
      for (const done of written) await done.store.delete(manifestKey(id)).catch(() => undefined);
      return false;
    }
  }
  return true;
}

function describe(error: unknown): string {
  if (isAppError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
