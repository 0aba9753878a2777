// Keys for keyed hashes, derived from the root key per purpose (HKDF-SHA256): blind indexes for
// lookups of encrypted values, hashes of tokens, codes and API secrets, and signed cookies. They
// survive rekey (same root key) and a stolen database alone cannot test guesses against them.
import { createHmac, hkdfSync, type KeyObject } from "node:crypto";
import { secretsEqual } from "./constant-time.ts";

export type MacPurpose =
  | "email-index"
  | "token"
  | "one-time-code"
  | "api-key-secret"
  | "device-cookie"
  | "oidc-login"
  | "recovery-code"
  | "audit-value"
  | "audit-chain"
  | "search-token";

export function derivePurposeKey(rootKey: Buffer, installationId: string, purpose: MacPurpose): Buffer {
  return Buffer.from(hkdfSync("sha256", rootKey, installationId, `strongroom/purpose-key/v1/${purpose}`, 32));
}

// A KeyObject is ~4x cheaper per HMAC than a Buffer key (Node probes a Buffer for KeyObject/CryptoKey and
// builds throw-away TypeErrors first); the vault keeps both and zeroes the Buffer on seal.
export function computeMac(key: Buffer | KeyObject, data: string | Uint8Array): string {
  return createHmac("sha256", key).update(data).digest("base64url");
}

export function macMatches(key: Buffer | KeyObject, data: string | Uint8Array, mac: string): boolean {
  return secretsEqual(Buffer.from(mac, "utf8"), Buffer.from(computeMac(key, data), "utf8"));
}
