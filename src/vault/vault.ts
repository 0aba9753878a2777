// The barrier: a vault starts sealed and holds no keys until a threshold of custodian shares opens
// the root key. Everything below it (database, blob stores) only ever sees ciphertext.
import { createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import { AppError } from "../errors/app-error.ts";
import { addKeyringTerm, createKeyring, keyringTermKey, openKeyring, sealKeyring, zeroKeyring, type Keyring } from "./keyring.ts";
import { newKey, rootKeyAssociatedData, unwrapKey, wrapKey } from "./key-wrap.ts";
import { deriveBackupKeys, type BackupKeys, type BackupSealHeader } from "./backup-keys.ts";
import { computeMac, derivePurposeKey, macMatches, type MacPurpose } from "./purpose-keys.ts";
import { createOpenedFieldCache } from "./opened-field-cache.ts";
import { createTenantData } from "./tenant-data.ts";
import { createTenantKeys, defaultTenantKeyLimits, type TenantKeyLimits } from "./tenant-keys.ts";
import { combineShares, parseShare, shareIndexOf, splitUnsealKey, validateShareCounts, type ParsedShare } from "./unseal-shares.ts";
import type { SealConfig, VaultRepository } from "./vault-repository.ts";
import { createServiceSigningKey } from "./service-signing-key.ts";
import { createDocumentSigningKey, type DocumentSigningFiles } from "./document-signing-key.ts";

export type SealStatus = {
  initialized: boolean;
  sealed: boolean;
  threshold: number;
  shares: number;
  progress: number;
  installationId: string | undefined;
  keyringTerm: number | undefined;
};

export type VaultOptions = {
  tenantKeyLimits?: TenantKeyLimits;
  /** The operator's PAdES certificate and key (already checked); without them the vault makes its own. */
  documentSigning?: DocumentSigningFiles;
};

type Unsealed = { rootKey: Buffer; keyring: Keyring; keyringRevision: number; purposeKeys: Map<MacPurpose, { bytes: Buffer; keyObject: KeyObject }> };

export function createVault(repository: VaultRepository, options: VaultOptions = {}) {
  let sealConfig: SealConfig | undefined;
  let unsealed: Unsealed | undefined;
  let pendingShares: ParsedShare[] = [];
  let queue: Promise<unknown> = Promise.resolve();

  // Unseal, seal, rekey and rotate change shared state: one at a time.
  function serially<T>(work: () => Promise<T>): Promise<T> {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  }

  async function loadSealConfig(): Promise<SealConfig | undefined> {
    sealConfig ??= await repository.readSealConfig();
    return sealConfig;
  }

  async function requireSealConfig(): Promise<SealConfig> {
    const config = await loadSealConfig();
    if (!config) throw new AppError("not_initialized", "the installation is not initialised: run `strongroom operator init`");
    return config;
  }

  function requireUnsealedState(): Unsealed {
    if (!unsealed) throw new AppError("sealed", "the vault is sealed: key custodians must enter their shares");
    return unsealed;
  }

  async function reloadKeyring(): Promise<void> {
    const state = requireUnsealedState();
    const config = await requireSealConfig();
    const stored = await repository.readKeyring();
    if (stored.revision === state.keyringRevision) return;
    const keyring = openKeyring(state.rootKey, config.installationId, stored.ciphertext);
    zeroKeyring(state.keyring);
    state.keyring = keyring;
    state.keyringRevision = stored.revision;
  }

  const tenantKeys = createTenantKeys(
    repository,
    {
      activeTerm: () => requireUnsealedState().keyring.activeTerm,
      async termKey(term) {
        const state = requireUnsealedState();
        if (!state.keyring.terms.some((entry) => entry.term === term)) await reloadKeyring();
        return keyringTermKey(requireUnsealedState().keyring, term);
      },
    },
    options.tenantKeyLimits ?? defaultTenantKeyLimits,
  );

  async function openRootKey(config: SealConfig, shares: ParsedShare[]): Promise<Buffer> {
    const unsealKey = await combineShares(shares).catch(() => {
      throw new AppError("unseal_failed", "the shares could not be combined");
    });
    try {
      return unwrapKey(unsealKey, rootKeyAssociatedData(config.installationId), config.rootKeyCiphertext);
    } catch {
      throw new AppError("unseal_failed", "the shares do not open this installation's root key: one or more shares are wrong");
    } finally {
      unsealKey.fill(0);
    }
  }

  function parseDistinctShares(config: SealConfig, texts: string[]): ParsedShare[] {
    const parsed: ParsedShare[] = [];
    for (const text of texts) {
      const share = parseShare(text, config.installationId);
      const index = shareIndexOf(share, config.threshold);
      if (parsed.some((other) => shareIndexOf(other, config.threshold) === index)) {
        throw new AppError("share_repeated", "this share was already entered: each custodian enters a different share");
      }
      parsed.push(share);
    }
    return parsed;
  }

  function currentStatus(): SealStatus {
    return {
      initialized: sealConfig !== undefined,
      sealed: unsealed === undefined,
      threshold: sealConfig?.threshold ?? 0,
      shares: sealConfig?.shareCount ?? 0,
      progress: pendingShares.length,
      installationId: sealConfig?.installationId,
      keyringTerm: unsealed?.keyring.activeTerm,
    };
  }

  function purposeKey(purpose: MacPurpose): KeyObject {
    const state = requireUnsealedState();
    let key = state.purposeKeys.get(purpose);
    if (!key) {
      const bytes = derivePurposeKey(state.rootKey, sealConfig!.installationId, purpose);
      key = { bytes, keyObject: createSecretKey(bytes) };
      state.purposeKeys.set(purpose, key);
    }
    return key.keyObject;
  }

  const openedFields = createOpenedFieldCache();
  const guardedTenantKeys = {
    async takeKeyForSealing(tenantId: string) {
      requireUnsealedState();
      return tenantKeys.takeKeyForSealing(tenantId);
    },
    async keyForOpening(tenantId: string, version: number) {
      requireUnsealedState();
      return tenantKeys.keyForOpening(tenantId, version);
    },
    confirmedKeyForOpening(tenantId: string, version: number) {
      requireUnsealedState();
      return tenantKeys.confirmedKeyForOpening(tenantId, version);
    },
    // Crypto-shredding: the key owner's KEKs are deleted and the owner joins the shred list. A key
    // owner is a tenant id, or "user:<id>" for a person's own fields. See "Erasure" in
    // docs/architecture.md for what this does to older backups.
    async destroy(keyOwner: string) {
      requireUnsealedState();
      try {
        return await tenantKeys.destroy(keyOwner);
      } finally {
        // After the keys: a field opened while they were going must not stay either.
        openedFields.forgetOwner(keyOwner);
      }
    },
    // The key owners destroyed so far (ids and times only). Backups keep it beside every copy.
    async shredList() {
      return repository.readShredList();
    },
    // After a restore of an older copy: destroy again every key owner erased since that copy was taken.
    async applyShredList(entries: readonly { keyOwner: string; shreddedAt: string }[]): Promise<number> {
      requireUnsealedState();
      let destroyed = 0;
      for (const entry of entries) {
        destroyed += await tenantKeys.destroy(entry.keyOwner, entry.shreddedAt);
        openedFields.forgetOwner(entry.keyOwner);
      }
      return destroyed;
    },
  };

  const data = createTenantData(guardedTenantKeys, openedFields);
  const serviceKey = createServiceSigningKey(repository.db, () => data);
  const documentSigningKey = createDocumentSigningKey(repository.db, () => data, options.documentSigning);

  return {
    async status(): Promise<SealStatus> {
      await loadSealConfig();
      return currentStatus();
    },

    isSealed(): boolean {
      return unsealed === undefined;
    },

    async initialize(shares: number, threshold: number): Promise<{ shares: string[]; installationId: string }> {
      validateShareCounts(shares, threshold);
      return serially(async () => {
        if (await loadSealConfig()) throw new AppError("already_initialized", "this installation is already initialised");
        const installationId = randomUUID();
        const unsealKey = newKey();
        const rootKey = newKey();
        const keyring = createKeyring();
        try {
          const config: SealConfig = {
            installationId,
            threshold,
            shareCount: shares,
            rootKeyCiphertext: wrapKey(unsealKey, rootKeyAssociatedData(installationId), rootKey),
          };
          const shareTexts = await splitUnsealKey(unsealKey, shares, threshold, installationId);
          await repository.initialize(config, sealKeyring(rootKey, installationId, keyring));
          sealConfig = config;
          return { shares: shareTexts, installationId };
        } finally {
          unsealKey.fill(0);
          rootKey.fill(0);
          zeroKeyring(keyring);
        }
      });
    },

    async submitShare(text: string): Promise<SealStatus> {
      return serially(async () => {
        // Read afresh: another node or the CLI may have rekeyed since this node last looked.
        sealConfig = await repository.readSealConfig();
        const config = await requireSealConfig();
        if (unsealed) return currentStatus();
        if (pendingShares.some((share) => share.installationTag !== pendingShares[0]!.installationTag)) pendingShares = [];
        const candidate = parseDistinctShares(config, [text])[0]!;
        if (pendingShares.some((share) => shareIndexOf(share, config.threshold) === shareIndexOf(candidate, config.threshold))) {
          throw new AppError("share_repeated", "this share was already entered: each custodian enters a different share");
        }
        pendingShares.push(candidate);
        if (pendingShares.length < config.threshold) return currentStatus();
        const shares = pendingShares;
        pendingShares = [];
        const rootKey = await openRootKey(config, shares);
        const stored = await repository.readKeyring();
        try {
          unsealed = {
            rootKey,
            keyring: openKeyring(rootKey, config.installationId, stored.ciphertext),
            keyringRevision: stored.revision,
            purposeKeys: new Map(),
          };
        } catch (error) {
          rootKey.fill(0);
          throw error;
        }
        return currentStatus();
      });
    },

    resetUnseal(): SealStatus {
      pendingShares = [];
      return currentStatus();
    },

    async seal(): Promise<SealStatus> {
      return serially(async () => {
        pendingShares = [];
        tenantKeys.forgetAll();
        openedFields.forgetAll();
        serviceKey.forget();
        documentSigningKey.forget();
        if (unsealed) {
          for (const key of unsealed.purposeKeys.values()) key.bytes.fill(0);
          unsealed.rootKey.fill(0);
          zeroKeyring(unsealed.keyring);
          unsealed = undefined;
        }
        return currentStatus();
      });
    },

    // A new share set for the same root key: old shares stop working, data stays as it is.
    async rekey(currentShares: string[], shares: number, threshold: number): Promise<{ shares: string[] }> {
      validateShareCounts(shares, threshold);
      return serially(async () => {
        const config = await requireSealConfig();
        if (currentShares.length < config.threshold) {
          throw new AppError("bad_request", `rekey needs ${config.threshold} current shares, got ${currentShares.length}`);
        }
        const rootKey = await openRootKey(config, parseDistinctShares(config, currentShares));
        const unsealKey = newKey();
        try {
          const next: SealConfig = {
            installationId: config.installationId,
            threshold,
            shareCount: shares,
            rootKeyCiphertext: wrapKey(unsealKey, rootKeyAssociatedData(config.installationId), rootKey),
          };
          const shareTexts = await splitUnsealKey(unsealKey, shares, threshold, config.installationId);
          if (!(await repository.replaceRootKeyCiphertext(config.rootKeyCiphertext, next))) {
            sealConfig = undefined;
            throw new AppError("conflict", "the seal configuration changed during rekey: try again");
          }
          sealConfig = next;
          pendingShares = [];
          return { shares: shareTexts };
        } finally {
          rootKey.fill(0);
          unsealKey.fill(0);
        }
      });
    },

    // A new keyring term for new tenant keys; older terms stay so existing data stays readable.
    async rotate(): Promise<{ term: number }> {
      return serially(async () => {
        const config = await requireSealConfig();
        for (let attempt = 0; attempt < 3; attempt++) {
          await reloadKeyring();
          const state = requireUnsealedState();
          const next = addKeyringTerm(state.keyring);
          const sealed = sealKeyring(state.rootKey, config.installationId, next);
          if (await repository.replaceKeyring(state.keyringRevision, sealed)) {
            state.keyring = next;
            state.keyringRevision += 1;
            tenantKeys.dropActive();
            return { term: next.activeTerm };
          }
          zeroKeyring({ activeTerm: next.activeTerm, terms: next.terms.slice(-1) });
        }
        throw new AppError("conflict", "the keyring kept changing during rotation: try again");
      });
    },

    requireUnsealed(): void {
      requireUnsealedState();
    },

    // Keys for sealing backup parts and binding manifests (see backup-keys.ts); the caller forgets them.
    backupKeys(): BackupKeys {
      return deriveBackupKeys(requireUnsealedState().rootKey, sealConfig!.installationId);
    },

    // The seal record a backup carries so that the custodians' shares alone can open it.
    async backupSealHeader(): Promise<BackupSealHeader> {
      const config = await requireSealConfig();
      return { installationId: config.installationId, threshold: config.threshold, shareCount: config.shareCount, rootKeyCiphertext: config.rootKeyCiphertext };
    },

    // Keyed hash for lookups and for storing tokens, codes and secrets only as hashes.
    mac(purpose: MacPurpose, data: string | Uint8Array): string {
      return computeMac(purposeKey(purpose), data);
    },

    // Constant-time check of a keyed hash.
    macMatches(purpose: MacPurpose, data: string | Uint8Array, mac: string): boolean {
      return macMatches(purposeKey(purpose), data, mac);
    },

    tenantKeys: guardedTenantKeys,

    // Seal and open tenant data; refuses while sealed.
    data,

    // The service's Ed25519 signing key (audit checkpoints, document seals).
    serviceKey,

    // The PAdES key and certificate that sign final PDFs.
    documentSigningKey,
  };
}

export type Vault = ReturnType<typeof createVault>;
