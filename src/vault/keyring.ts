// The keyring: numbered terms of 32-byte keys that wrap tenant keys. Rotation adds a term and makes it
// active; older terms stay to open what they wrapped. Serialised in binary so key bytes can be zeroed.
import { AppError } from "../errors/app-error.ts";
import { newKey, unwrapKey, wrapKey } from "./key-wrap.ts";

export type KeyringTerm = { term: number; key: Buffer; createdAt: number };
export type Keyring = { activeTerm: number; terms: KeyringTerm[] };

const formatVersion = 1;
const termEntryLength = 4 + 32 + 8;

export function createKeyring(): Keyring {
  return { activeTerm: 1, terms: [{ term: 1, key: newKey(), createdAt: Date.now() }] };
}

export function addKeyringTerm(keyring: Keyring): Keyring {
  const term = Math.max(...keyring.terms.map((entry) => entry.term)) + 1;
  return { activeTerm: term, terms: [...keyring.terms, { term, key: newKey(), createdAt: Date.now() }] };
}

export function keyringTermKey(keyring: Keyring, term: number): Buffer {
  const entry = keyring.terms.find((candidate) => candidate.term === term);
  if (!entry) throw new AppError("key_not_found", `keyring term ${term} is unknown`);
  return entry.key;
}

export function sealKeyring(rootKey: Buffer, installationId: string, keyring: Keyring): Buffer {
  const plain = Buffer.alloc(1 + 4 + 4 + keyring.terms.length * termEntryLength);
  let offset = plain.writeUInt8(formatVersion, 0);
  offset = plain.writeUInt32BE(keyring.activeTerm, offset);
  offset = plain.writeUInt32BE(keyring.terms.length, offset);
  for (const entry of keyring.terms) {
    offset = plain.writeUInt32BE(entry.term, offset);
    offset += entry.key.copy(plain, offset);
    offset = plain.writeBigUInt64BE(BigInt(entry.createdAt), offset);
  }
  try {
    return wrapKey(rootKey, keyringAssociatedData(installationId), plain);
  } finally {
    plain.fill(0);
  }
}

export function openKeyring(rootKey: Buffer, installationId: string, sealed: Buffer): Keyring {
  const plain = unwrapKey(rootKey, keyringAssociatedData(installationId), sealed);
  try {
    if (plain.readUInt8(0) !== formatVersion) throw new AppError("decrypt_failed", "unsupported keyring format");
    const activeTerm = plain.readUInt32BE(1);
    const count = plain.readUInt32BE(5);
    if (plain.length !== 9 + count * termEntryLength) throw new AppError("decrypt_failed", "keyring length mismatch");
    const terms: KeyringTerm[] = [];
    for (let index = 0, offset = 9; index < count; index++, offset += termEntryLength) {
      terms.push({
        term: plain.readUInt32BE(offset),
        key: Buffer.from(plain.subarray(offset + 4, offset + 36)),
        createdAt: Number(plain.readBigUInt64BE(offset + 36)),
      });
    }
    return { activeTerm, terms };
  } finally {
    plain.fill(0);
  }
}

export function zeroKeyring(keyring: Keyring | undefined): void {
  for (const entry of keyring?.terms ?? []) entry.key.fill(0);
}

function keyringAssociatedData(installationId: string): string {
  return `strongroom/keyring/v1/${installationId}`;
}
