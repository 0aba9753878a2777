// Per-tenant key-encryption keys: created on first use, wrapped under the active keyring term, and
// rotated automatically before a key has been used for its limit of encryptions (2^32 for GCM with
// random nonces). Uses are reserved in blocks in the database first, so a crash only over-counts.
import { AppError } from "../errors/app-error.ts";
import type { KeyEncryptionKey } from "./key-encryption-key.ts";
import { newKey, unwrapKey, wrapKey } from "./key-wrap.ts";
import type { StoredTenantKey, VaultRepository } from "./vault-repository.ts";

export type TenantKeyLimits = { usesPerKey: number; reserveBlock: number };

export const defaultTenantKeyLimits: TenantKeyLimits = { usesPerKey: 2 ** 32 - 2 ** 20, reserveBlock: 1024 };

const maxCachedKeys = 10_000;
const keyRecheckMs = 30_000;

type TermKeys = { activeTerm(): number; termKey(term: number): Promise<Buffer> };

type ActiveKey = { kek: KeyEncryptionKey; remaining: number };

export function createTenantKeys(repository: VaultRepository, terms: TermKeys, limits: TenantKeyLimits) {
  const opened = new Map<string, KeyEncryptionKey>();
  // When each opened key was last seen in the database: a key erased on another node stops opening
  // here within this long, without a database read on every decryption.
  const confirmedAt = new Map<string, number>();
  const active = new Map<string, ActiveKey>();
  const locks = new Map<string, Promise<unknown>>();

  function confirmedKey(cacheKey: string): KeyEncryptionKey | undefined {
    const cached = opened.get(cacheKey);
    return cached && Date.now() - (confirmedAt.get(cacheKey) ?? 0) < keyRecheckMs ? cached : undefined;
  }

  function associatedData(tenantId: string, version: number, term: number): string {
    return `strongroom/tenant-key/v1/${tenantId}/${version}/${term}`;
  }

  async function unwrapStored(stored: StoredTenantKey): Promise<KeyEncryptionKey> {
    const cacheKey = `${stored.tenantId}\u0000${stored.version}`;
    const cached = opened.get(cacheKey);
    if (cached) return cached;
    const termKey = await terms.termKey(stored.keyringTerm);
    const key = unwrapKey(termKey, associatedData(stored.tenantId, stored.version, stored.keyringTerm), stored.wrappedKey);
    const kek = { tenantId: stored.tenantId, version: stored.version, key };
    // Dropped, not zeroed: a caller may still hold the buffer mid-operation. Zeroing happens on seal.
    if (opened.size >= maxCachedKeys) {
      opened.clear();
      confirmedAt.clear();
    }
    opened.set(cacheKey, kek);
    return kek;
  }

  async function createVersion(tenantId: string, previous: StoredTenantKey | undefined): Promise<void> {
    const version = (previous?.version ?? 0) + 1;
    const term = terms.activeTerm();
    const key = newKey();
    try {
      const wrappedKey = wrapKey(await terms.termKey(term), associatedData(tenantId, version, term), key);
      await repository.insertTenantKey(
        { tenantId, version, keyringTerm: term, wrappedKey, usesReserved: 0 },
        previous?.version,
      );
    } finally {
      key.fill(0);
    }
  }

  async function reserveActive(tenantId: string): Promise<ActiveKey> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const latest = await repository.readLatestTenantKey(tenantId);
      // An erased owner never gets a fresh key: its data must stay unreadable, not start anew.
      if (!latest && (await repository.isShredded(tenantId))) throw new AppError("key_not_found", "the keys of this data were destroyed (erased)");
      if (!latest || latest.state !== "active" || latest.keyringTerm !== terms.activeTerm()) {
        await createVersion(tenantId, latest);
        continue;
      }
      if (await repository.reserveTenantKeyUses(tenantId, latest.version, limits.reserveBlock, limits.usesPerKey)) {
        return { kek: await unwrapStored(latest), remaining: limits.reserveBlock };
      }
      if (latest.usesReserved + limits.reserveBlock > limits.usesPerKey) await createVersion(tenantId, latest);
    }
    throw new AppError("storage_failed", "could not reserve a tenant key after several attempts");
  }

  async function withTenantLock<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const previous = locks.get(tenantId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    locks.set(tenantId, settled);
    try {
      return await next;
    } finally {
      if (locks.get(tenantId) === settled) locks.delete(tenantId);
    }
  }

  // After a keyring rotation: the next seal per tenant moves to a key version under the new term.
  function dropActive(): void {
    active.clear();
  }

  function forgetAll(): void {
    for (const kek of opened.values()) kek.key.fill(0);
    opened.clear();
    confirmedAt.clear();
    active.clear();
  }

  return {
    // One call is one encryption under the returned key.
    async takeKeyForSealing(tenantId: string): Promise<KeyEncryptionKey> {
      return withTenantLock(tenantId, async () => {
        let current = active.get(tenantId);
        if (!current || current.remaining <= 0) {
          current = await reserveActive(tenantId);
          active.set(tenantId, current);
        }
        current.remaining -= 1;
        return current.kek;
      });
    },

    // The key when it is in memory and was confirmed in the database within the recheck time, else
    // undefined (then keyForOpening reads it): lets a cached field be served without a promise.
    confirmedKeyForOpening(tenantId: string, version: number): KeyEncryptionKey | undefined {
      return confirmedKey(`${tenantId}\u0000${version}`);
    },

    async keyForOpening(tenantId: string, version: number): Promise<KeyEncryptionKey> {
      const cacheKey = `${tenantId}\u0000${version}`;
      const cached = confirmedKey(cacheKey);
      if (cached) return cached;
      const stored = await repository.readTenantKey(tenantId, version);
      if (!stored) {
        opened.delete(cacheKey);
        throw new AppError("key_not_found", "the key for this data does not exist (erased or never created)");
      }
      const kek = await unwrapStored(stored);
      confirmedAt.set(cacheKey, Date.now());
      return kek;
    },

    // Crypto-shredding: without its keys, every copy of the tenant's data is unreadable.
    async destroy(tenantId: string, at: string = new Date().toISOString()): Promise<number> {
      return withTenantLock(tenantId, async () => {
        for (const [cacheKey, kek] of opened) {
          if (kek.tenantId === tenantId) {
            kek.key.fill(0);
            opened.delete(cacheKey);
          }
        }
        active.delete(tenantId);
        return repository.shredTenantKeys(tenantId, at);
      });
    },

    dropActive,
    forgetAll,
  };
}

export type TenantKeys = ReturnType<typeof createTenantKeys>;
