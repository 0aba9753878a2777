// `backup restore`: an empty database and blob store become the installation as it was when the
// backup was taken. The custodians' shares are needed twice: here, to derive the backup key (nothing
// in a backup opens without them), and afterwards to unseal the restored installation as usual.
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { BlobStore } from "../../store/blob-store.ts";
import { openDatabase, type DatabaseConfig } from "../../store/database.ts";
import { openBackupKeysWithShares } from "../../vault/backup-keys.ts";
import { verifyServiceSignature } from "../../vault/service-signing-key.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { blobKeyOf, keyOwnerOfShreddedName, listShreddedTenants, partKey, type BackupDestination } from "./backup-destinations.ts";
import { digestingPassThrough, forEachLimited } from "./backup-digests.ts";
import { readManifest } from "./list-backups.ts";
import { assertDatabaseEmpty, restoreDatabase } from "./database-snapshot.ts";

export type RestoreContext = {
  destination: BackupDestination;
  id: string;
  shares: string[];
  databaseConfig: DatabaseConfig;
  blobStore: BlobStore;
  workDir: string;
  postgresBinDir?: string | undefined;
  onProgress?: (progress: { phase: "blobs"; done: number; total: number }) => void;
};

export type RestoreSummary = { id: string; destination: string; createdAt: string; blobs: number; shreddedTenants: string[] };

const maxIndexBytes = 512 * 1024 * 1024;

export async function restoreBackup(context: RestoreContext): Promise<RestoreSummary> {
  const { destination, id } = context;
  const { file, manifest } = await readManifest(destination, id).catch((error: unknown) => {
    if (isAppError(error) && error.code === "blob_not_found") throw new AppError("not_found", `no good backup ${id} on destination ${destination.name}`);
    throw error;
  });
  const corrupt = (part: string, why: string) => new AppError("backup_corrupt", `${part}: ${why}`, { part });
  if (manifest.id !== id) throw corrupt("manifest.json", `belongs to backup ${manifest.id}, not ${id}`);
  if (!verifyServiceSignature(file.signature.publicKeyPem, Buffer.from(file.body, "utf8"), file.signature.signature)) throw corrupt("manifest.json", "signature does not verify");
  const keys = await openBackupKeysWithShares({
    installationId: manifest.installationId,
    threshold: manifest.seal.threshold,
    shareCount: manifest.seal.shareCount,
    rootKeyCiphertext: Buffer.from(manifest.seal.rootKeyCiphertext, "base64"),
  }, context.shares);
  const work = join(context.workDir, `restore-${id}`);
  try {
    // The MAC under the backup key is what ties the manifest to this installation's root key.
    if (!keys.macMatches(file.body, file.mac)) throw corrupt("manifest.json", "not made with this installation's backup key");
    if (manifest.database !== context.databaseConfig.kind) {
      throw new AppError("bad_request", `backup ${id} holds a ${manifest.database} database; the configured database is ${context.databaseConfig.kind}`);
    }
    await assertDatabaseEmpty(context.databaseConfig);
    for await (const _key of context.blobStore.list("")) throw new AppError("restore_target_not_empty", "the blob store is not empty: restore needs an empty one");
    await mkdir(work, { recursive: true, mode: 0o700 });

    const partOf = (name: "db.part" | "index.part") => manifest.parts.find((part) => part.name === name)!;
    // Every byte is checked against the manifest on the way in; the AEAD then checks the content.
    const openPart = async (name: "db.part" | "index.part") => {
      const expected = partOf(name);
      const tap = digestingPassThrough();
      const source = await destination.store.get(partKey(id, name)).catch((error: unknown) => {
        throw isAppError(error) && error.code === "blob_not_found" ? corrupt(name, "missing") : error;
      });
      return { source, tap, opening: keys.createOpenStream(id, name), check: () => {
        const found = tap.digest();
        if (found.sha256 !== expected.sha256 || found.size !== expected.size) throw corrupt(name, "SHA-256 does not match the manifest");
      } };
    };

    const index = await openPart("index.part");
    const indexChunks: Buffer[] = [];
    let indexLength = 0;
    await pipeline(index.source, index.tap.stream, index.opening, async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        indexLength += chunk.length;
        if (indexLength > maxIndexBytes) throw corrupt("index.part", "too large");
        indexChunks.push(chunk);
      }
    }).catch((error: unknown) => {
      index.check();
      throw isAppError(error) && error.code !== "backup_corrupt" ? corrupt("index.part", error.message) : error;
    });
    index.check();
    const entries = parseIndex(Buffer.concat(indexChunks));

    const db = await openPart("db.part");
    const plain = join(work, "db.plain");
    await pipeline(db.source, db.tap.stream, db.opening, createWriteStream(plain, { mode: 0o600 })).catch((error: unknown) => {
      db.check();
      throw isAppError(error) ? corrupt("db.part", error.message) : error;
    });
    db.check();

    let done = 0;
    await forEachLimited(entries, 4, async (entry) => {
      const label = blobKeyOf(entry.sha256);
      const tap = digestingPassThrough();
      const source = await destination.store.get(label).catch((error: unknown) => {
        throw isAppError(error) && error.code === "blob_not_found" ? corrupt(label, "missing") : error;
      });
      source.on("error", (error) => tap.stream.destroy(error));
      await context.blobStore.put(entry.key, source.pipe(tap.stream));
      const found = tap.digest();
      if (found.sha256 !== entry.sha256 || found.size !== entry.size) {
        await context.blobStore.delete(entry.key).catch(() => undefined);
        throw corrupt(label, "SHA-256 does not match the manifest");
      }
      context.onProgress?.({ phase: "blobs", done: ++done, total: entries.length });
    });

    await restoreDatabase(context.databaseConfig, plain, context.postgresBinDir);
    const shreddedTenants = await applyShredList(context);
    return { id, destination: destination.name, createdAt: manifest.createdAt, blobs: entries.length, shreddedTenants };
  } finally {
    keys.forget();
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

const indexSchema = z.array(z.object({ key: z.string().min(1).max(255), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().min(0) }));

// Authenticated by the AEAD already; checked anyway so a bug elsewhere cannot steer the copy.
function parseIndex(bytes: Buffer): z.infer<typeof indexSchema> {
  try {
    return indexSchema.parse(JSON.parse(bytes.toString("utf8")));
  } catch {
    throw new AppError("backup_corrupt", "index.part: not a valid blob index", { part: "index.part" });
  }
}

// Companies erased after the backup was taken lose their keys again, so crypto-shredding holds.
async function applyShredList(context: RestoreContext): Promise<string[]> {
  const tenants = await listShreddedTenants(context.destination);
  if (tenants.length === 0) return [];
  const database = await openDatabase(context.databaseConfig);
  try {
    const repository = createVaultRepository(database.db);
    // Also puts them on the restored database's own shred list, so no fresh key is ever made for them.
    const at = new Date().toISOString();
    for (const name of tenants) await repository.shredTenantKeys(keyOwnerOfShreddedName(name), at);
  } finally {
    await database.close();
  }
  return tenants;
}
