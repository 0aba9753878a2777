// The set-up every bench that talks to the store starts from: a SQLite file at `path`, migrated, with a
// vault initialised 1-of-1 and unsealed. The caller closes the database.
import { openDatabase, type Database } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createVault, type Vault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";

export async function openUnsealedDatabase(path: string): Promise<{ database: Database; vault: Vault; share: string }> {
  const database = await openDatabase({ kind: "sqlite", path });
  try {
    await migrateToLatest(database);
    const vault = createVault(createVaultRepository(database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    return { database, vault, share: shares[0]! };
  } catch (error) {
    await database.close();
    throw error;
  }
}
