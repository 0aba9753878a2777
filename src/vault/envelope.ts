// Envelope encryption of small values (fields, small records) under a tenant KEK, plus the key header
// (magic, format version, kind, KEK version, wrapped data key) that blob streams share.
//
// Field layout (format version 1, kind 0x01), all integers big-endian:
//   0   2  magic "SR"
//   2   1  format version (0x01)
//   3   1  kind (0x01 field, 0x02 stream)
//   4   4  KEK version (uint32)
//   8  12  wrap nonce (random)            ┐ the data key (DEK) sealed with AES-256-GCM under the KEK,
//  20  32  wrapped DEK                    │ AAD = bytes 0..7 ‖ encoded context
//  52  16  wrap tag                       ┘
//  68  12  content nonce (random)
//  80   n  content ciphertext             AES-256-GCM under the DEK, AAD = bytes 0..67 ‖ encoded context
//  80+n 16 content tag
//
// KEK use accounting: every sealBytes/sealString (and every createSealStream) wraps one fresh DEK, which is
// exactly one AES-GCM encryption under the KEK with a random 96-bit nonce. The caller counts these uses and
// rotates the KEK well before 2^32 of them; opening never encrypts under the KEK and does not count.

import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { AppError } from "../errors/app-error.ts";
import type { EncryptionContext, KeyEncryptionKey, KeyEncryptionKeyLookup } from "./key-encryption-key.ts";

export type EnvelopeKind = "field" | "stream";

const MAGIC_0 = 0x53; // "S"
const MAGIC_1 = 0x52; // "R"
const FORMAT_VERSION = 0x01;
const KIND_BYTES: Record<EnvelopeKind, number> = { field: 0x01, stream: 0x02 };

const KEY_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const PREAMBLE_LENGTH = 8;
const WRAPPED_KEY_LENGTH = NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH;
const MAX_UINT32 = 0xffff_ffff;

/** Bytes of magic, format version, kind, KEK version and wrapped DEK at the start of every sealed value. */
export const KEY_HEADER_LENGTH = PREAMBLE_LENGTH + WRAPPED_KEY_LENGTH;
const FIELD_OVERHEAD = KEY_HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH;

const CONTEXT_LABEL = Buffer.from("strongroom.encryption-context.v1", "utf8");

// Cipher contexts get KeyObjects, not Buffers: given a Buffer, Node first probes it for a KeyObject and a
// CryptoKey and builds throw-away TypeErrors, which costs ~20 µs per context against ~3-5 µs. A KEK's
// KeyObject is made once per KEK buffer; it goes when the vault drops the KEK (on seal, with the buffer).
const kekKeyObjects = new WeakMap<Buffer, KeyObject>();

function kekKeyObject(kek: KeyEncryptionKey): KeyObject {
  let keyObject = kekKeyObjects.get(kek.key);
  if (!keyObject) {
    keyObject = createSecretKey(kek.key);
    kekKeyObjects.set(kek.key, keyObject);
  }
  return keyObject;
}

/** One message for every authentication failure, so callers learn nothing about which part was wrong. */
export function decryptFailed(): AppError {
  return new AppError("decrypt_failed", "ciphertext could not be opened: authentication failed");
}

/** Seals a small value under a fresh DEK wrapped by the KEK. One KEK use per call (see module comment). */
export function sealBytes(kek: KeyEncryptionKey, context: EncryptionContext, plaintext: Uint8Array): Buffer {
  const dek = randomBytes(KEY_LENGTH);
  try {
    const keyHeader = writeKeyHeader("field", kek, context, dek);
    const nonce = randomBytes(NONCE_LENGTH);
    const cipher = createCipheriv("aes-256-gcm", createSecretKey(dek), nonce);
    cipher.setAAD(Buffer.concat([keyHeader, encodeEncryptionContext(context)]));
    const ciphertext = cipher.update(plaintext);
    const rest = cipher.final();
    return Buffer.concat([keyHeader, nonce, ciphertext, rest, cipher.getAuthTag()]);
  } finally {
    dek.fill(0);
  }
}

/** Opens a value sealed by sealBytes for the same context; any tampering or a moved ciphertext → decrypt_failed. */
export async function openBytes(
  lookup: KeyEncryptionKeyLookup,
  context: EncryptionContext,
  sealed: Uint8Array,
): Promise<Buffer> {
  const bytes = asBuffer(sealed);
  if (bytes.length < FIELD_OVERHEAD) throw decryptFailed();
  const keyHeader = bytes.subarray(0, KEY_HEADER_LENGTH);
  const encodedContext = encodeEncryptionContext(context);
  const dek = await unwrapEncodedDataKey(lookup, context, encodedContext, keyHeader, "field");
  try {
    const nonce = bytes.subarray(KEY_HEADER_LENGTH, KEY_HEADER_LENGTH + NONCE_LENGTH);
    const ciphertext = bytes.subarray(KEY_HEADER_LENGTH + NONCE_LENGTH, bytes.length - TAG_LENGTH);
    const decipher = createDecipheriv("aes-256-gcm", createSecretKey(dek), nonce, { authTagLength: TAG_LENGTH });
    decipher.setAAD(Buffer.concat([keyHeader, encodedContext]));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_LENGTH));
    const plaintext = decipher.update(ciphertext);
    try {
      return Buffer.concat([plaintext, decipher.final()]);
    } catch {
      plaintext.fill(0);
      throw decryptFailed();
    }
  } finally {
    dek.fill(0);
  }
}

export function sealString(kek: KeyEncryptionKey, context: EncryptionContext, plaintext: string): Buffer {
  return sealBytes(kek, context, Buffer.from(plaintext, "utf8"));
}

export async function openString(
  lookup: KeyEncryptionKeyLookup,
  context: EncryptionContext,
  sealed: Uint8Array,
): Promise<string> {
  return (await openBytes(lookup, context, sealed)).toString("utf8");
}

/** The KEK version a sealed field or stream was written under (for rotation); reads only the first 8 bytes. */
export function readEnvelopeKeyVersion(sealed: Uint8Array): number {
  return readPreamble(asBuffer(sealed)).keyVersion;
}

/**
 * Canonical, unambiguous encoding of the context used as associated data: a label, then each string as
 * uint32 length ‖ UTF-8, the object version as uint64, and the optional field behind a presence byte.
 */
export function encodeEncryptionContext(context: EncryptionContext): Buffer {
  const { objectVersion } = context;
  if (!Number.isSafeInteger(objectVersion) || objectVersion < 0) {
    throw new AppError("internal_error", "encryption context objectVersion must be a non-negative safe integer");
  }
  const strings: [string, string][] = [["tenantId", context.tenantId], ["objectType", context.objectType], ["objectId", context.objectId]];
  if (context.field !== undefined) strings.push(["field", context.field]);
  for (const [name, value] of strings) requireWellFormed(name, value);
  // One buffer written in place (this runs for every field opened): the label, three strings, the
  // version, the presence byte and the optional field.
  let length = 4 + CONTEXT_LABEL.length + 8 + 1;
  for (const [, value] of strings) length += 4 + Buffer.byteLength(value, "utf8");
  const encoded = Buffer.allocUnsafe(length);
  let offset = encoded.writeUInt32BE(CONTEXT_LABEL.length, 0);
  offset += CONTEXT_LABEL.copy(encoded, offset);
  const writeString = (value: string) => {
    const written = encoded.write(value, offset + 4, "utf8");
    encoded.writeUInt32BE(written, offset);
    offset += 4 + written;
  };
  writeString(context.tenantId);
  writeString(context.objectType);
  writeString(context.objectId);
  offset = encoded.writeBigUInt64BE(BigInt(objectVersion), offset);
  offset = encoded.writeUInt8(context.field === undefined ? 0x00 : 0x01, offset);
  if (context.field !== undefined) writeString(context.field);
  return encoded;
}

/** Writes magic ‖ version ‖ kind ‖ KEK version ‖ wrapped DEK: one KEK use. */
export function writeKeyHeader(
  kind: EnvelopeKind,
  kek: KeyEncryptionKey,
  context: EncryptionContext,
  dek: Buffer,
): Buffer {
  checkSealingKey(kek, context);
  const header = Buffer.alloc(KEY_HEADER_LENGTH);
  header[0] = MAGIC_0;
  header[1] = MAGIC_1;
  header[2] = FORMAT_VERSION;
  header[3] = KIND_BYTES[kind];
  header.writeUInt32BE(kek.version, 4);
  const preamble = header.subarray(0, PREAMBLE_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", kekKeyObject(kek), nonce);
  cipher.setAAD(Buffer.concat([preamble, encodeEncryptionContext(context)]));
  const wrapped = Buffer.concat([cipher.update(dek), cipher.final()]);
  nonce.copy(header, PREAMBLE_LENGTH);
  wrapped.copy(header, PREAMBLE_LENGTH + NONCE_LENGTH);
  cipher.getAuthTag().copy(header, PREAMBLE_LENGTH + NONCE_LENGTH + KEY_LENGTH);
  return header;
}

/** Checks the preamble, resolves the KEK by the recorded version and unwraps the DEK (caller zeroes it). */
export function unwrapDataKey(
  lookup: KeyEncryptionKeyLookup,
  context: EncryptionContext,
  keyHeader: Buffer,
  expectedKind: EnvelopeKind,
): Promise<Buffer> {
  return unwrapEncodedDataKey(lookup, context, encodeEncryptionContext(context), keyHeader, expectedKind);
}

async function unwrapEncodedDataKey(
  lookup: KeyEncryptionKeyLookup,
  context: EncryptionContext,
  encodedContext: Buffer,
  keyHeader: Buffer,
  expectedKind: EnvelopeKind,
): Promise<Buffer> {
  if (keyHeader.length < KEY_HEADER_LENGTH) throw decryptFailed();
  const { kind, keyVersion } = readPreamble(keyHeader);
  if (kind !== expectedKind) throw decryptFailed();
  const aad = Buffer.concat([keyHeader.subarray(0, PREAMBLE_LENGTH), encodedContext]);
  const kek = await lookup(context.tenantId, keyVersion);
  if (kek.tenantId !== context.tenantId || kek.version !== keyVersion || kek.key.length !== KEY_LENGTH) {
    throw decryptFailed();
  }
  const wrap = keyHeader.subarray(PREAMBLE_LENGTH, KEY_HEADER_LENGTH);
  const decipher = createDecipheriv("aes-256-gcm", kekKeyObject(kek), wrap.subarray(0, NONCE_LENGTH), {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(wrap.subarray(NONCE_LENGTH + KEY_LENGTH));
  const dek = decipher.update(wrap.subarray(NONCE_LENGTH, NONCE_LENGTH + KEY_LENGTH));
  try {
    decipher.final();
  } catch {
    dek.fill(0);
    throw decryptFailed();
  }
  return dek;
}

function readPreamble(bytes: Buffer): { kind: EnvelopeKind; keyVersion: number } {
  if (bytes.length < PREAMBLE_LENGTH || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) throw decryptFailed();
  const formatVersion = bytes[2];
  if (formatVersion !== FORMAT_VERSION) {
    // Not secret and not an oracle: the version byte is plaintext. Say so plainly for operators.
    throw new AppError("decrypt_failed", `unsupported ciphertext format version ${String(formatVersion)}`);
  }
  const kind = bytes[3] === KIND_BYTES.field ? "field" : bytes[3] === KIND_BYTES.stream ? "stream" : undefined;
  if (kind === undefined) throw decryptFailed();
  return { kind, keyVersion: bytes.readUInt32BE(4) };
}

function checkSealingKey(kek: KeyEncryptionKey, context: EncryptionContext): void {
  if (kek.key.length !== KEY_LENGTH) {
    throw new AppError("internal_error", "key-encryption key must be 32 bytes");
  }
  if (!Number.isInteger(kek.version) || kek.version < 0 || kek.version > MAX_UINT32) {
    throw new AppError("internal_error", "key-encryption key version must be a uint32");
  }
  if (kek.tenantId !== context.tenantId) {
    throw new AppError("internal_error", "key-encryption key belongs to another tenant than the encryption context");
  }
}

function requireWellFormed(name: string, value: string): void {
  // Lone surrogates would all encode to U+FFFD, making distinct contexts collide.
  if (typeof value !== "string" || !value.isWellFormed()) {
    throw new AppError("internal_error", `encryption context ${name} must be a well-formed string`);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
