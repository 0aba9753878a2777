// AES-256-GCM wrapping of the vault's own keys (root key, keyring, tenant keys): one random nonce per
// wrap, associated data naming what is wrapped, so a wrapped key moved to another slot fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError } from "../errors/app-error.ts";

const nonceLength = 12;
const tagLength = 16;

export function wrapKey(wrappingKey: Buffer, associatedData: string, plaintext: Buffer): Buffer {
  const nonce = randomBytes(nonceLength);
  const cipher = createCipheriv("aes-256-gcm", wrappingKey, nonce, { authTagLength: tagLength });
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function unwrapKey(wrappingKey: Buffer, associatedData: string, wrapped: Uint8Array): Buffer {
  const bytes = Buffer.from(wrapped);
  if (bytes.length < nonceLength + tagLength) throw new AppError("decrypt_failed", "wrapped key is too short");
  const nonce = bytes.subarray(0, nonceLength);
  const tag = bytes.subarray(bytes.length - tagLength);
  const body = bytes.subarray(nonceLength, bytes.length - tagLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", wrappingKey, nonce, { authTagLength: tagLength });
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new AppError("decrypt_failed", "wrapped key failed its integrity check");
  }
}

export function newKey(): Buffer {
  return randomBytes(32);
}

/** The associated data of the root key's wrap under the unseal key (shared by the vault and backup restore). */
export function rootKeyAssociatedData(installationId: string): string {
  return `strongroom/root-key/v1/${installationId}`;
}
