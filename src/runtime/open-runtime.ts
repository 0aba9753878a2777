// Chooses the providers once, from configuration (database, blob store, vault), so the rest of the
// code never asks which backend it runs on. Used by the server and by the operator commands.
import { readFileSync } from "node:fs";
import type { Config } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import type { BlobStore } from "../store/blob-store.ts";
import { createFileBlobStore } from "../store/blob-store-fs.ts";
import { createS3BlobStore } from "../store/blob-store-s3.ts";
import { openDatabase, type Database, type DatabaseConfig } from "../store/database.ts";
import { migrateToLatest } from "../store/migrate.ts";
import { createVault, type Vault } from "../vault/vault.ts";
import { createVaultRepository } from "../vault/vault-repository.ts";
import { readDocumentSigningFiles } from "../vault/document-signing-key.ts";

export type Runtime = { config: Config; database: Database; blobStore: BlobStore; vault: Vault; close(): Promise<void> };

export type RuntimeOptions = {
  /**
   * Remove temporary files of interrupted blob-store writes: the server's start-up only. Every command
   * may run beside a live server (`operator status`, `audit verify`, `backup run`…), where the sweep
   * would also remove the temporary file of an upload in progress; on a large store it walks every
   * directory, too.
   */
  cleanupBlobTemps?: boolean;
};

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  // A missing, mismatched, expired or unusable signing certificate stops start-up here, not a signature request at completion.
  const documentSigning = config.documentSigning.certFile && config.documentSigning.keyFile
    ? readDocumentSigningFiles(config.documentSigning.certFile, config.documentSigning.keyFile)
    : undefined;
  const database = await openDatabase(databaseConfigOf(config));
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  const blobStore = await openBlobStore(config, options.cleanupBlobTemps ?? false).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  const vault = createVault(createVaultRepository(database.db), documentSigning ? { documentSigning } : {});
  return {
    config,
    database,
    blobStore,
    vault,
    async close() {
      await vault.seal();
      await database.close();
    },
  };
}

// A wrong bucket or credential is a start-up error, not a failure at the first upload.
export async function openBlobStore(config: Config, cleanupTemps = false): Promise<BlobStore> {
  const store = config.blobStore;
  if (store.kind === "fs") {
    const files = createFileBlobStore(config.blobDirectory);
    if (cleanupTemps) await files.cleanupTempFiles();
    return files;
  }
  const s3 = createS3BlobStore({
    ...(store.endpoint ? { endpoint: store.endpoint } : {}),
    region: store.region,
    bucket: store.bucket,
    prefix: store.prefix,
    accessKeyId: store.accessKeyId,
    secretAccessKey: store.secretAccessKey,
    forcePathStyle: store.forcePathStyle,
    ...(store.caFile ? { tls: { ca: readPem(store.caFile, "blobStore.caFile"), rejectUnauthorized: true } } : {}),
  });
  await s3.verify();
  return s3;
}

export function databaseConfigOf(config: Config): DatabaseConfig {
  const database = config.database;
  if (database.kind === "sqlite") return { kind: "sqlite", path: config.databasePath };
  if (database.sslmode === "disable") return { kind: "postgres", url: database.url };
  const tls = {
    rejectUnauthorized: database.sslmode === "verify-full",
    ...(database.caFile ? { ca: readPem(database.caFile, "database.caFile") } : {}),
    ...(database.certFile ? { cert: readPem(database.certFile, "database.certFile") } : {}),
    ...(database.keyFile ? { key: readPem(database.keyFile, "database.keyFile") } : {}),
  };
  return { kind: "postgres", url: database.url, tls };
}

function readPem(file: string, setting: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new AppError("config_invalid", `invalid configuration:\n  - ${setting}: cannot read ${file}`);
  }
}
