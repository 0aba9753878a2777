// Persistence for the vault: the wrapped root key, the keyring ciphertext and wrapped tenant keys.
// Everything stored here is ciphertext; compare-and-swap updates keep several nodes consistent.
import type { Kysely } from "kysely";
import { AppError } from "../errors/app-error.ts";
import type { DatabaseSchema } from "../store/schema.ts";

export type SealConfig = {
  installationId: string;
  threshold: number;
  shareCount: number;
  rootKeyCiphertext: Buffer;
};

export type StoredKeyring = { revision: number; ciphertext: Buffer };

export type StoredTenantKey = {
  tenantId: string;
  version: number;
  keyringTerm: number;
  wrappedKey: Buffer;
  usesReserved: number;
  state: "active" | "retired";
};

export type VaultRepository = ReturnType<typeof createVaultRepository>;

const now = () => new Date().toISOString();

export function createVaultRepository(db: Kysely<DatabaseSchema>) {
  return {
    db,

    async readSealConfig(): Promise<SealConfig | undefined> {
      const row = await db.selectFrom("vault_seal").selectAll().where("id", "=", 1).executeTakeFirst();
      if (!row) return undefined;
      return {
        installationId: row.installation_id,
        threshold: Number(row.threshold),
        shareCount: Number(row.share_count),
        rootKeyCiphertext: Buffer.from(row.root_key_ciphertext),
      };
    },

    async initialize(seal: SealConfig, keyringCiphertext: Buffer): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom("vault_seal").select("id").where("id", "=", 1).executeTakeFirst();
        if (existing) throw new AppError("already_initialized", "this installation is already initialised");
        const at = now();
        await trx.insertInto("vault_seal").values({
          id: 1,
          installation_id: seal.installationId,
          threshold: seal.threshold,
          share_count: seal.shareCount,
          root_key_ciphertext: seal.rootKeyCiphertext,
          created_at: at,
          updated_at: at,
        }).execute();
        await trx.insertInto("vault_keyring").values({ id: 1, revision: 1, ciphertext: keyringCiphertext, updated_at: at }).execute();
      });
    },

    async replaceRootKeyCiphertext(previous: Buffer, next: SealConfig): Promise<boolean> {
      const result = await db.updateTable("vault_seal")
        .set({
          root_key_ciphertext: next.rootKeyCiphertext,
          threshold: next.threshold,
          share_count: next.shareCount,
          updated_at: now(),
        })
        .where("id", "=", 1)
        .where("root_key_ciphertext", "=", previous)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async readKeyring(): Promise<StoredKeyring> {
      const row = await db.selectFrom("vault_keyring").selectAll().where("id", "=", 1).executeTakeFirst();
      if (!row) throw new AppError("not_initialized", "the keyring is missing: the installation is not initialised");
      return { revision: Number(row.revision), ciphertext: Buffer.from(row.ciphertext) };
    },

    async replaceKeyring(expectedRevision: number, ciphertext: Buffer): Promise<boolean> {
      const result = await db.updateTable("vault_keyring")
        .set({ revision: expectedRevision + 1, ciphertext, updated_at: now() })
        .where("id", "=", 1)
        .where("revision", "=", expectedRevision)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async readTenantKey(tenantId: string, version: number): Promise<StoredTenantKey | undefined> {
      const row = await db.selectFrom("tenant_keys").selectAll()
        .where("tenant_id", "=", tenantId).where("version", "=", version).executeTakeFirst();
      return row ? toTenantKey(row) : undefined;
    },

    async readLatestTenantKey(tenantId: string): Promise<StoredTenantKey | undefined> {
      const row = await db.selectFrom("tenant_keys").selectAll()
        .where("tenant_id", "=", tenantId).orderBy("version", "desc").limit(1).executeTakeFirst();
      return row ? toTenantKey(row) : undefined;
    },

    // Returns false when another node created this version first.
    async insertTenantKey(key: Omit<StoredTenantKey, "state">, previousVersion: number | undefined): Promise<boolean> {
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto("tenant_keys").values({
            tenant_id: key.tenantId,
            version: key.version,
            keyring_term: key.keyringTerm,
            wrapped_key: key.wrappedKey,
            uses_reserved: key.usesReserved,
            state: "active",
            created_at: now(),
          }).execute();
          if (previousVersion !== undefined) {
            await trx.updateTable("tenant_keys").set({ state: "retired" })
              .where("tenant_id", "=", key.tenantId).where("version", "=", previousVersion).execute();
          }
        });
        return true;
      } catch (error) {
        if (await this.readTenantKey(key.tenantId, key.version)) return false;
        throw error;
      }
    },

    // Reserves a block of encryptions under a key before they happen, so a crash can only over-count.
    async reserveTenantKeyUses(tenantId: string, version: number, block: number, limit: number): Promise<boolean> {
      const result = await db.updateTable("tenant_keys")
        .set((eb) => ({ uses_reserved: eb("uses_reserved", "+", block) }))
        .where("tenant_id", "=", tenantId)
        .where("version", "=", version)
        .where("state", "=", "active")
        .where("uses_reserved", "<=", limit - block)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    // Crypto-shredding: the keys go and the owner joins the shred list in one transaction, so a key
    // owner is never left half-erased and a restored older copy can be told what to destroy again.
    async shredTenantKeys(tenantId: string, at: string): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const result = await trx.deleteFrom("tenant_keys").where("tenant_id", "=", tenantId).executeTakeFirst();
        await trx.insertInto("vault_shredded_key_owners").values({ key_owner: tenantId, shredded_at: at })
          .onConflict((oc) => oc.column("key_owner").doNothing()).execute();
        return Number(result.numDeletedRows);
      });
    },

    async isShredded(keyOwner: string): Promise<boolean> {
      return Boolean(await db.selectFrom("vault_shredded_key_owners").select("key_owner").where("key_owner", "=", keyOwner).executeTakeFirst());
    },

    async readShredList(): Promise<{ keyOwner: string; shreddedAt: string }[]> {
      const rows = await db.selectFrom("vault_shredded_key_owners").selectAll().orderBy("shredded_at").orderBy("key_owner").execute();
      return rows.map((row) => ({ keyOwner: row.key_owner, shreddedAt: row.shredded_at }));
    },
  };
}

function toTenantKey(row: {
  tenant_id: string; version: number; keyring_term: number; wrapped_key: Uint8Array; uses_reserved: number | string | bigint; state: string;
}): StoredTenantKey {
  return {
    tenantId: row.tenant_id,
    version: Number(row.version),
    keyringTerm: Number(row.keyring_term),
    wrappedKey: Buffer.from(row.wrapped_key),
    usesReserved: Number(row.uses_reserved),
    state: row.state === "retired" ? "retired" : "active",
  };
}
