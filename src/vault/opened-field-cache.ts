// Short fields opened recently (a company's name, a member's e-mail address), kept as text so that a
// page or API call that shows them on every request does not unwrap a data key and decrypt each time.
// An entry answers only for the exact sealed bytes and the same encryption context, i.e. only where a
// decryption would have given the same text; the caller still resolves the field's KEK before serving
// it (that is where sealing and erasure are enforced). Emptied on seal; an erased key owner's entries go
// at once.
import type { EncryptionContext } from "./key-encryption-key.ts";

const maxEntries = 2_000;
const maxSealedLength = 512;
// Entries are found by the random nonce that wrapped the field's data key (bytes 8..20 of every sealed
// value, see envelope.ts), then compared in full.
const nonceStart = 8;
const nonceEnd = 20;

type Entry = { context: EncryptionContext; sealed: Buffer; text: string };

export type OpenedFieldCache = ReturnType<typeof createOpenedFieldCache>;

export function createOpenedFieldCache() {
  const entries = new Map<string, Entry>();
  const slotOf = (sealed: Uint8Array) => (sealed.length > maxSealedLength || sealed.length < nonceEnd ? undefined : nonceSlot(sealed));

  return {
    get(context: EncryptionContext, sealed: Uint8Array): string | undefined {
      const slot = slotOf(sealed);
      const entry = slot === undefined ? undefined : entries.get(slot);
      if (!entry || !sameContext(entry.context, context) || !sameBytes(entry.sealed, sealed)) return undefined;
      return entry.text;
    },
    set(context: EncryptionContext, sealed: Uint8Array, text: string): void {
      const slot = slotOf(sealed);
      if (slot === undefined) return;
      entries.delete(slot);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(slot, { context: { ...context }, sealed: Buffer.from(sealed), text });
    },
    delete(sealed: Uint8Array): void {
      const slot = slotOf(sealed);
      if (slot !== undefined) entries.delete(slot);
    },
    forgetOwner(keyOwner: string): void {
      for (const [slot, entry] of entries) if (entry.context.tenantId === keyOwner) entries.delete(slot);
    },
    forgetAll(): void {
      entries.clear();
    },
    size: () => entries.size,
  };
}

// Looked up on every request that shows a field, so plain JavaScript: the two calls into Buffer's native
// code (a latin1 slice and equals) made a cached company name cost ~9 µs of an API request (measured
// with bench/auth.ts's server), this ~0. Neither value is secret (nonce and ciphertext), so an early exit is fine.
function nonceSlot(sealed: Uint8Array): string {
  let slot = "";
  for (let index = nonceStart; index < nonceEnd; index += 2) slot += String.fromCharCode(sealed[index]! | (sealed[index + 1]! << 8));
  return slot;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

function sameContext(a: EncryptionContext, b: EncryptionContext): boolean {
  return a.tenantId === b.tenantId && a.objectType === b.objectType && a.objectId === b.objectId && a.objectVersion === b.objectVersion && a.field === b.field;
}
