// What the rest of the code calls to protect tenant data: seal or open bytes and streams for a
// context (tenant, object, version, field). Keys never leave the vault; callers see only ciphertext.
import type { Readable, Transform } from "node:stream";
import { createOpenStream, createSealStream, openRange, type PlaintextRange, type ReadSealedRange } from "./blob-stream.ts";
import { openBytes, readEnvelopeKeyVersion, sealBytes } from "./envelope.ts";
import type { EncryptionContext, KeyEncryptionKey } from "./key-encryption-key.ts";
import type { OpenedFieldCache } from "./opened-field-cache.ts";

type TenantKeySource = {
  takeKeyForSealing(tenantId: string): Promise<KeyEncryptionKey>;
  keyForOpening(tenantId: string, version: number): Promise<KeyEncryptionKey>;
  confirmedKeyForOpening(tenantId: string, version: number): KeyEncryptionKey | undefined;
};

export function createTenantData(keys: TenantKeySource, openedFields: OpenedFieldCache) {
  const lookup = (tenantId: string, version: number) => keys.keyForOpening(tenantId, version);
  return {
    async sealBytes(context: EncryptionContext, plaintext: Uint8Array): Promise<Buffer> {
      return sealBytes(await keys.takeKeyForSealing(context.tenantId), context, plaintext);
    },
    openBytes(context: EncryptionContext, sealed: Uint8Array): Promise<Buffer> {
      return openBytes(lookup, context, sealed);
    },
    async sealString(context: EncryptionContext, plaintext: string): Promise<Buffer> {
      return sealBytes(await keys.takeKeyForSealing(context.tenantId), context, Buffer.from(plaintext, "utf8"));
    },
    async openString(context: EncryptionContext, sealed: Uint8Array): Promise<string> {
      const cached = openedFields.get(context, sealed);
      if (cached !== undefined) {
        // The same check a decryption makes first: sealed, erased (here or, within the KEK recheck
        // time, on another node) or a missing key refuses, and the entry goes.
        const version = readEnvelopeKeyVersion(sealed);
        if (keys.confirmedKeyForOpening(context.tenantId, version)) return cached;
        await lookup(context.tenantId, version).catch((error: unknown) => {
          openedFields.delete(sealed);
          throw error;
        });
        return cached;
      }
      const text = (await openBytes(lookup, context, sealed)).toString("utf8");
      openedFields.set(context, sealed, text);
      return text;
    },
    async createSealStream(context: EncryptionContext, options?: { chunkSize?: number }): Promise<Transform> {
      return createSealStream(await keys.takeKeyForSealing(context.tenantId), context, options);
    },
    createOpenStream(context: EncryptionContext): Transform {
      return createOpenStream(lookup, context);
    },
    openRange(context: EncryptionContext, readSealed: ReadSealedRange, sealedSize: number, range: PlaintextRange): Promise<Readable> {
      return openRange(lookup, context, readSealed, sealedSize, range);
    },
  };
}

export type TenantData = ReturnType<typeof createTenantData>;
