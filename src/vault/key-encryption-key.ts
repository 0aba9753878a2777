// The types that connect the envelope and stream formats to the tenant key hierarchy:
// a versioned per-tenant key-encryption key, how to find one, and what a ciphertext is bound to.

export type KeyEncryptionKey = {
  tenantId: string;
  version: number;
  /** 32 bytes. The caller owns the buffer and may zero it when the key is retired. */
  key: Buffer;
};

/**
 * Resolves the KEK for opening (by the version recorded in the header).
 * Throws AppError("key_not_found") when unknown.
 */
export type KeyEncryptionKeyLookup = (tenantId: string, version: number) => Promise<KeyEncryptionKey>;

/** What a ciphertext belongs to; it is authenticated as associated data, so a moved ciphertext fails to open. */
export type EncryptionContext = {
  tenantId: string;
  objectType: string;
  objectId: string;
  objectVersion: number;
  field?: string;
};
