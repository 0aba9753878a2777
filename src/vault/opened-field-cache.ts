// Short fields opened recently (a company's name, a member's e-mail address), kept as text so that a
// page or API call that shows them on every request does not unwrap a data key and decrypt each time.
// An entry is bound to the exact sealed bytes and their encryption context, so it answers only where a
// decryption would have given the same text; the caller still resolves the field's KEK before serving
// it (that is where sealing and erasure are enforced). Emptied on seal; an erased key owner's entries go
// at once.
import { encodeEncryptionContext } from "./envelope.ts";
import type { EncryptionContext } from "./key-encryption-key.ts";

const maxEntries = 2_000;
const maxSealedLength = 512;

export type OpenedFieldCache = ReturnType<typeof createOpenedFieldCache>;

export function createOpenedFieldCache() {
  const entries = new Map<string, { keyOwner: string; text: string }>();
  return {
    /** The cache key for a field, or undefined for one too long to keep. */
    keyFor(context: EncryptionContext, sealed: Uint8Array): string | undefined {
      if (sealed.length > maxSealedLength) return undefined;
      // The encoded context is self-delimiting (length-prefixed), so context ‖ sealed is unambiguous.
      return encodeEncryptionContext(context).toString("latin1") + Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).toString("latin1");
    },
    get(key: string): string | undefined {
      return entries.get(key)?.text;
    },
    set(key: string, keyOwner: string, text: string): void {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { keyOwner, text });
    },
    delete(key: string): void {
      entries.delete(key);
    },
    forgetOwner(keyOwner: string): void {
      for (const [key, entry] of entries) if (entry.keyOwner === keyOwner) entries.delete(key);
    },
    forgetAll(): void {
      entries.clear();
    },
    size: () => entries.size,
  };
}
