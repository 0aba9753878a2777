// Chooses the providers once, from configuration (database, blob store, vault), so the rest of the
// code never asks which backend it runs on. Used by the server and by the operator commands.
import { readFileSync } from "node:fs";
import type { Config } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import { openDatabase, type Database, type DatabaseConfig } from "../store/database.ts";
import { migrateToLatest } from "../store/migrate.ts";
import { createVault, type Vault } from "../vault/vault.ts";
import { createVaultRepository } from "../vault/vault-repository.ts";

export type Runtime = { config: Config; database: Database; vault: Vault; close(): Promise<void> };

export async function openRuntime(config: Config): Promise<Runtime> {
  const database = await openDatabase(databaseConfigOf(config));
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  const vault = createVault(createVaultRepository(database.db));
  return {
    config,
    database,
    vault,
    async close() {
      await vault.seal();
      await database.close();
    },
  };
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
