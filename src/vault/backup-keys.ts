// Keys for backups, derived (HKDF-SHA256) from the root key: a stream key that seals backup parts in
// the chunked AES-256-GCM stream format, and a MAC key that binds a manifest to this installation.
// The root key, not a keyring term: the keyring is inside the database dump, and the root key is what
// the custodians' shares open, so a restore onto nothing needs only the backup and k shares. Rekey
// keeps the root key, so backups taken before a rekey open with the new shares too.
//
// Key use: every sealed part wraps one fresh data key under the stream key (random 96-bit nonce); at a
// few parts per backup and one backup every few minutes that stays far below 2^32 wraps.
import { hkdfSync } from "node:crypto";
import type { Transform } from "node:stream";
import { AppError } from "../errors/app-error.ts";
import { createOpenStream, createSealStream } from "./blob-stream.ts";
import type { EncryptionContext, KeyEncryptionKey } from "./key-encryption-key.ts";
import { rootKeyAssociatedData, unwrapKey } from "./key-wrap.ts";
import { computeMac, macMatches } from "./purpose-keys.ts";
import { combineShares, parseShare, shareIndexOf, type ParsedShare } from "./unseal-shares.ts";

/** What a backup must carry so that shares alone can derive its keys: the installation's seal record. */
export type BackupSealHeader = { installationId: string; threshold: number; shareCount: number; rootKeyCiphertext: Buffer };

const backupOwner = "system:backup";

export type BackupKeys = {
  createSealStream(backupId: string, part: string): Transform;
  createOpenStream(backupId: string, part: string): Transform;
  mac(data: string | Uint8Array): string;
  macMatches(data: string | Uint8Array, mac: string): boolean;
  /** Zeroes the derived keys; the object is useless afterwards. */
  forget(): void;
};

export function deriveBackupKeys(rootKey: Buffer, installationId: string): BackupKeys {
  const streamKey = Buffer.from(hkdfSync("sha256", rootKey, installationId, "strongroom/backup-key/v1/stream", 32));
  const macKey = Buffer.from(hkdfSync("sha256", rootKey, installationId, "strongroom/backup-key/v1/manifest", 32));
  const kek: KeyEncryptionKey = { tenantId: backupOwner, version: 1, key: streamKey };
  const contextOf = (backupId: string, part: string): EncryptionContext => ({ tenantId: backupOwner, objectType: "backup_part", objectId: backupId, objectVersion: 1, field: part });
  return {
    createSealStream: (backupId, part) => createSealStream(kek, contextOf(backupId, part)),
    createOpenStream: (backupId, part) =>
      createOpenStream(async (tenantId, version) => {
        if (tenantId !== backupOwner || version !== 1) throw new AppError("key_not_found", "unknown backup key version");
        return kek;
      }, contextOf(backupId, part)),
    mac: (data) => computeMac(macKey, data),
    macMatches: (data, mac) => macMatches(macKey, data, mac),
    forget() {
      streamKey.fill(0);
      macKey.fill(0);
    },
  };
}

/**
 * Backup keys from the custodians' shares and a backup's seal header, with no database: what a restore
 * onto an empty installation uses. Wrong shares fail the root key's GCM check (`unseal_failed`).
 */
export async function openBackupKeysWithShares(header: BackupSealHeader, shareTexts: string[]): Promise<BackupKeys> {
  const parsed: ParsedShare[] = [];
  for (const text of shareTexts) {
    const share = parseShare(text, header.installationId);
    if (parsed.some((other) => shareIndexOf(other, header.threshold) === shareIndexOf(share, header.threshold))) {
      throw new AppError("share_repeated", "this share was already entered: each custodian enters a different share");
    }
    parsed.push(share);
  }
  if (parsed.length < header.threshold) throw new AppError("unseal_failed", `the backup needs ${header.threshold} shares, got ${parsed.length}`);
  const unsealKey = await combineShares(parsed).catch(() => {
    throw new AppError("unseal_failed", "the shares could not be combined");
  });
  let rootKey: Buffer;
  try {
    rootKey = unwrapKey(unsealKey, rootKeyAssociatedData(header.installationId), header.rootKeyCiphertext);
  } catch {
    throw new AppError("unseal_failed", "the shares do not open this backup's root key: one or more shares are wrong");
  } finally {
    unsealKey.fill(0);
  }
  try {
    return deriveBackupKeys(rootKey, header.installationId);
  } finally {
    rootKey.fill(0);
  }
}
