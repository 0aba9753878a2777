// Chunked streaming AES-256-GCM for blobs (the STREAM online-AE construction of Hoang, Reyhanitabar,
// Rogaway and Vizár): seal and open as Node Transforms, and random access for HTTP Range reads.
//
// Layout (format version 1, kind 0x02), all integers big-endian:
//   0   68  key header: magic "SR", format version, kind 0x02, KEK version, wrapped DEK (see envelope.ts)
//  68    4  chunk size in plaintext bytes (uint32)
//  72    7  nonce prefix (random)
//  79    …  chunks: AES-256-GCM(DEK, nonce = prefix ‖ counter uint32 ‖ last flag 0x00|0x01,
//           AAD = header bytes 0..78 ‖ encoded context), each ciphertext ‖ 16-byte tag.
// Every chunk but the last holds exactly `chunk size` plaintext bytes; the last holds 0..chunk size
// (an empty blob is one empty final chunk). At most 2^32 chunks per DEK.
//
// Default chunk size 256 KiB. Every chunk costs a fresh cipher context (~5 µs in Node with the DEK as a
// KeyObject, see chunkCipher; ~20 µs with it as a Buffer), a tag and a final(): ~10-20 µs of fixed cost
// against ~15 µs of AES-GCM work on 64 KiB. bench/crypto.ts, in memory on one thread with the server's
// runtime settings, against ~4.2 GB/s for `openssl speed` at 16 KiB: 64 KiB chunks sealed at ~4.0 and
// opened at ~2.7 GB/s (the opener gets 64 KiB pieces, so nearly every chunk spans two of them: two
// update() calls and two output buffers), 256 KiB chunks sealed at 5.0-5.8 and opened at 3.4-4.6 GB/s
// (with the server's V8 flag that counts external memory toward the heap limit; without it V8 ran ~96
// mark-compacts per GiB sealed and sealing ran at 3.2-3.9 GB/s; see bench/results/crypto.json). Memory
// decides the upper end: sealing 2 GiB peaks at ~110 MB RSS with 64 KiB chunks, ~139 MB with 256 KiB
// and ~150 MB with 1 MiB. The opener hands out plaintext in pieces of at most 64 KiB (MAX_OUTPUT_PIECE),
// Range reads included: with whole 256 KiB pieces a download made so few small heap objects that V8
// hardly ran a scavenge, the spent buffers were left to its external-memory limit, and that forced ~58
// mark-compacts per GiB (a 1 GiB download at ~500 MB/s; ~840 MB/s with the cap, as with 64 KiB
// chunks). A Range read decrypts at most 2 × 256 KiB it does not return. Live data stays about one
// chunk plus the stream high-water marks. The chunk size is in every header, so blobs sealed with
// 64 KiB or 1 MiB chunks open unchanged.

import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from "node:crypto";
import { pipeline, Readable, Transform } from "node:stream";
import { AppError } from "../errors/app-error.ts";
import type { EncryptionContext, KeyEncryptionKey, KeyEncryptionKeyLookup } from "./key-encryption-key.ts";
import {
  decryptFailed,
  encodeEncryptionContext,
  KEY_HEADER_LENGTH,
  unwrapDataKey,
  writeKeyHeader,
} from "./envelope.ts";

export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** Bounds what a (possibly forged, not yet authenticated) header can make an opener buffer. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const NONCE_PREFIX_LENGTH = 7;
export const STREAM_HEADER_LENGTH = KEY_HEADER_LENGTH + 4 + NONCE_PREFIX_LENGTH;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
const MAX_CHUNKS = 2 ** 32;
const MAX_OUTPUT_PIECE = 64 * 1024;

export type StreamHeaderInfo = { headerLength: number; chunkSize: number; keyVersion: number };
export type PlaintextRange = { start: number; end: number /* inclusive */ };
export type ReadSealedRange = (start: number, endInclusive: number) => Promise<Readable>;

/**
 * Plaintext in, sealed stream out. Wraps a fresh DEK under the KEK: exactly one KEK use per call.
 * Throws synchronously on an unusable KEK or chunk size; errors later are emitted on the stream.
 */
export function createSealStream(
  kek: KeyEncryptionKey,
  context: EncryptionContext,
  options: { chunkSize?: number } = {},
): Transform {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new AppError("internal_error", `chunk size must be an integer from 1 to ${MAX_CHUNK_SIZE}`);
  }
  const dek = randomBytes(KEY_LENGTH);
  let header: Buffer;
  let chunks: ChunkCipher;
  try {
    const streamFields = Buffer.alloc(4 + NONCE_PREFIX_LENGTH);
    streamFields.writeUInt32BE(chunkSize, 0);
    randomBytes(NONCE_PREFIX_LENGTH).copy(streamFields, 4);
    header = Buffer.concat([writeKeyHeader("stream", kek, context, dek), streamFields]);
    chunks = chunkCipher(dek, header, context);
  } finally {
    dek.fill(0); // from here on only the chunk cipher's key object holds the DEK
  }
  const pending = createByteQueue();
  let headerSent = false;

  const sendHeader = (stream: Transform): void => {
    if (headerSent) return;
    headerSent = true;
    stream.push(header);
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        sendHeader(this);
        pending.append(chunk);
        // A chunk is only known not to be the last once a byte beyond it has arrived.
        while (pending.length > chunkSize) {
          for (const piece of chunks.seal(pending.take(chunkSize), false)) this.push(piece);
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        sendHeader(this);
        for (const piece of chunks.seal(pending.take(pending.length), true)) this.push(piece);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * Sealed stream in, plaintext out. Each chunk is verified before any of its bytes are emitted;
 * tampering, reordering, truncation or trailing data end the stream with an AppError
 * ("decrypt_failed" or "stream_truncated"); an unknown KEK version with the lookup's error.
 */
export function createOpenStream(lookup: KeyEncryptionKeyLookup, context: EncryptionContext): Transform {
  const pending = createByteQueue();
  let opened: { chunks: ChunkCipher; sealedChunkSize: number } | undefined;
  let destroyed = false;

  const openHeader = async (): Promise<void> => {
    const header = Buffer.concat(pending.take(STREAM_HEADER_LENGTH));
    const { chunkSize } = readStreamHeader(header);
    const dek = await unwrapDataKey(lookup, context, header.subarray(0, KEY_HEADER_LENGTH), "stream");
    try {
      if (!destroyed) opened = { chunks: chunkCipher(dek, header, context), sealedChunkSize: chunkSize + TAG_LENGTH };
    } finally {
      dek.fill(0);
    }
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      pending.append(chunk);
      const openChunks = (): void => {
        try {
          if (opened === undefined) return callback();
          const { chunks, sealedChunkSize } = opened;
          while (pending.length > sealedChunkSize) {
            for (const piece of chunks.open(pending.take(sealedChunkSize), false)) this.push(piece);
          }
          callback();
        } catch (error) {
          callback(error as Error);
        }
      };
      if (opened === undefined && pending.length >= STREAM_HEADER_LENGTH) {
        openHeader().then(openChunks, (error: unknown) => callback(error as Error));
      } else {
        openChunks();
      }
    },
    flush(callback) {
      try {
        if (opened === undefined || pending.length < TAG_LENGTH) {
          throw new AppError("stream_truncated", "sealed stream ended before its final chunk");
        }
        const last = pending.take(pending.length);
        let plaintext: Buffer[];
        try {
          plaintext = opened.chunks.open(last, true);
        } catch (error) {
          // A chunk that verifies as non-final means the true final chunk was cut off.
          if (opened.chunks.verifies(last, false)) {
            throw new AppError("stream_truncated", "sealed stream ended before its final chunk");
          }
          throw error;
        }
        for (const piece of plaintext) this.push(piece);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    destroy(error, callback) {
      destroyed = true;
      callback(error);
    },
  });
}

/** Size of the sealed stream for a plaintext of the given size. */
export function sealedSizeFor(plaintextSize: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0) {
    throw new AppError("internal_error", "plaintext size must be a non-negative safe integer");
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new AppError("internal_error", `chunk size must be an integer from 1 to ${MAX_CHUNK_SIZE}`);
  }
  const chunkCount = Math.max(1, Math.ceil(plaintextSize / chunkSize));
  if (chunkCount > MAX_CHUNKS) throw new AppError("payload_too_large", "blob exceeds 2^32 chunks for one data key");
  return STREAM_HEADER_LENGTH + chunkCount * TAG_LENGTH + plaintextSize;
}

/** Size of the plaintext inside a sealed stream of the given size; a size the sealer cannot produce fails. */
export function plaintextSizeOf(sealedSize: number, headerInfo: Pick<StreamHeaderInfo, "headerLength" | "chunkSize">): number {
  return chunkLayout(sealedSize, headerInfo).plaintextSize;
}

/** Parses the plaintext fields of a stream header (not authenticated until a chunk verifies). */
export function readStreamHeader(header: Uint8Array): StreamHeaderInfo {
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (bytes.length < STREAM_HEADER_LENGTH) {
    throw new AppError("stream_truncated", "sealed stream ended inside its header");
  }
  if (bytes[0] !== 0x53 || bytes[1] !== 0x52 || bytes[3] !== 0x02) throw decryptFailed();
  if (bytes[2] !== 0x01) {
    throw new AppError("decrypt_failed", `unsupported ciphertext format version ${String(bytes[2])}`);
  }
  const chunkSize = bytes.readUInt32BE(KEY_HEADER_LENGTH);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw decryptFailed();
  return { headerLength: STREAM_HEADER_LENGTH, chunkSize, keyVersion: bytes.readUInt32BE(4) };
}

/**
 * Opens plaintext bytes range.start..range.end (inclusive) of a sealed blob, reading the header and
 * only the chunks covering the range through readSealed, and verifying each before emitting from it.
 */
export async function openRange(
  lookup: KeyEncryptionKeyLookup,
  context: EncryptionContext,
  readSealed: ReadSealedRange,
  sealedSize: number,
  range: PlaintextRange,
): Promise<Readable> {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw rangeNotSatisfiable();
  }
  if (!Number.isSafeInteger(sealedSize) || sealedSize < STREAM_HEADER_LENGTH + TAG_LENGTH) {
    throw new AppError("stream_truncated", "sealed blob is shorter than a header and one chunk");
  }
  const header = await readExactly(await readSealed(0, STREAM_HEADER_LENGTH - 1), STREAM_HEADER_LENGTH);
  const info = readStreamHeader(header);
  const layout = chunkLayout(sealedSize, info);
  if (end >= layout.plaintextSize) throw rangeNotSatisfiable();

  const dek = await unwrapDataKey(lookup, context, header.subarray(0, KEY_HEADER_LENGTH), "stream");
  let chunks: ChunkCipher;
  try {
    chunks = chunkCipher(dek, header, context);
  } finally {
    dek.fill(0);
  }
  const { chunkSize } = info;
  const sealedChunkSize = chunkSize + TAG_LENGTH;
  const firstChunk = Math.floor(start / chunkSize);
  const lastChunk = Math.floor(end / chunkSize);
  const sealedStart = STREAM_HEADER_LENGTH + firstChunk * sealedChunkSize;
  const sealedEnd = Math.min(STREAM_HEADER_LENGTH + (lastChunk + 1) * sealedChunkSize, sealedSize) - 1;

  const source = await readSealed(sealedStart, sealedEnd);
  const pending = createByteQueue();
  let counter = firstChunk;

  const openNext = (stream: Transform, sealedLength: number): void => {
    const isFinal = counter === layout.chunkCount - 1;
    const chunkStart = counter * chunkSize;
    // The wanted bytes of this chunk, [from, to) within it, pushed piece by piece (no copy of the chunk).
    const from = Math.max(start - chunkStart, 0);
    const to = end - chunkStart + 1;
    let offset = 0;
    for (const piece of chunks.open(pending.take(sealedLength), isFinal, counter)) {
      const wanted = piece.subarray(Math.max(from - offset, 0), Math.max(Math.min(to - offset, piece.length), 0));
      if (wanted.length > 0) stream.push(wanted);
      offset += piece.length;
    }
    counter += 1;
  };

  const decrypt = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        pending.append(chunk);
        while (counter <= lastChunk) {
          const sealedLength = counter === layout.chunkCount - 1 ? layout.lastSealedChunkSize : sealedChunkSize;
          if (pending.length < sealedLength) break;
          openNext(this, sealedLength);
        }
        if (counter > lastChunk && pending.length > 0) throw decryptFailed();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      callback(
        counter <= lastChunk ? new AppError("stream_truncated", "sealed range ended before its last chunk") : null,
      );
    },
  });
  // pipeline destroys both streams on failure, so the error reaches whoever reads `decrypt`.
  return pipeline(source, decrypt, () => {});
}

type ChunkCipher = {
  seal(plaintext: Buffer[], isFinal: boolean): Buffer[];
  /** Decrypts and verifies one sealed chunk (ciphertext ‖ tag); nothing is returned unless it verifies. */
  open(sealed: Buffer[], isFinal: boolean, counter?: number): Buffer[];
  verifies(sealed: Buffer[], isFinal: boolean): boolean;
};

// Sequential counter for seal/open; openRange passes explicit counters.
function chunkCipher(dek: Buffer, header: Buffer, context: EncryptionContext): ChunkCipher {
  const aad = Buffer.concat([header, encodeEncryptionContext(context)]);
  // A KeyObject rather than the Buffer: given a Buffer key, createCipheriv/createDecipheriv first probe
  // whether it is a KeyObject or CryptoKey, and each failed probe builds a TypeError with a stack trace
  // (~15 µs per chunk, as much as the AES-GCM work on 48 KiB). The key object's copy of the DEK lives in
  // native memory that OpenSSL cleanses when it is freed, like the key schedules of the cipher contexts;
  // callers zero their DEK Buffer as soon as this returns.
  const key = createSecretKey(dek);
  // One nonce buffer rewritten for every chunk (createCipheriv copies the IV). The prefix is copied out of
  // the header, which is handed downstream, where a consumer could reuse it.
  const nonce = Buffer.alloc(12);
  header.copy(nonce, 0, KEY_HEADER_LENGTH + 4, STREAM_HEADER_LENGTH);
  let sealCounter = 0;
  let openCounter = 0;

  const nonceFor = (counter: number, isFinal: boolean): Buffer => {
    if (counter >= MAX_CHUNKS) throw new AppError("payload_too_large", "blob exceeds 2^32 chunks for one data key");
    nonce.writeUInt32BE(counter, NONCE_PREFIX_LENGTH);
    nonce[11] = isFinal ? 0x01 : 0x00;
    return nonce;
  };

  const decrypt = (sealed: Buffer[], isFinal: boolean, counter: number): Buffer[] => {
    const { body, tag } = splitTag(sealed);
    const decipher = createDecipheriv("aes-256-gcm", key, nonceFor(counter, isFinal), { authTagLength: TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plaintext: Buffer[] = [];
    for (const piece of body) {
      for (let offset = 0; offset < piece.length; offset += MAX_OUTPUT_PIECE) {
        plaintext.push(decipher.update(piece.subarray(offset, offset + MAX_OUTPUT_PIECE)));
      }
    }
    try {
      decipher.final();
    } catch {
      for (const piece of plaintext) piece.fill(0);
      throw decryptFailed();
    }
    return plaintext;
  };

  return {
    seal(plaintext, isFinal) {
      const cipher = createCipheriv("aes-256-gcm", key, nonceFor(sealCounter, isFinal));
      sealCounter += 1;
      cipher.setAAD(aad);
      const out = plaintext.map((piece) => cipher.update(piece));
      cipher.final();
      out.push(cipher.getAuthTag());
      return out;
    },
    open(sealed, isFinal, counter) {
      if (counter !== undefined) return decrypt(sealed, isFinal, counter);
      const plaintext = decrypt(sealed, isFinal, openCounter);
      openCounter += 1;
      return plaintext;
    },
    verifies(sealed, isFinal) {
      try {
        for (const piece of decrypt(sealed, isFinal, openCounter)) piece.fill(0);
        return true;
      } catch {
        return false;
      }
    },
  };
}

type ChunkLayout = { chunkCount: number; plaintextSize: number; lastSealedChunkSize: number };

function chunkLayout(sealedSize: number, headerInfo: Pick<StreamHeaderInfo, "headerLength" | "chunkSize">): ChunkLayout {
  const body = sealedSize - headerInfo.headerLength;
  const sealedChunkSize = headerInfo.chunkSize + TAG_LENGTH;
  if (!Number.isSafeInteger(sealedSize) || body < TAG_LENGTH) {
    throw new AppError("stream_truncated", "sealed blob is shorter than a header and one chunk");
  }
  const chunkCount = Math.ceil(body / sealedChunkSize);
  const lastSealedChunkSize = body - (chunkCount - 1) * sealedChunkSize;
  if (lastSealedChunkSize < TAG_LENGTH) {
    throw new AppError("stream_truncated", "sealed blob ends inside a chunk tag");
  }
  if (chunkCount > MAX_CHUNKS) throw decryptFailed();
  return { chunkCount, plaintextSize: body - chunkCount * TAG_LENGTH, lastSealedChunkSize };
}

function splitTag(sealed: Buffer[]): { body: Buffer[]; tag: Buffer } {
  const last = sealed[sealed.length - 1];
  if (last !== undefined && last.length >= TAG_LENGTH) {
    // Usual case: the tag lies within the last piece; no copy.
    const body = sealed.slice(0, -1);
    if (last.length > TAG_LENGTH) body.push(last.subarray(0, last.length - TAG_LENGTH));
    return { body, tag: last.subarray(last.length - TAG_LENGTH) };
  }
  const queue = createByteQueue();
  for (const piece of sealed) queue.append(piece);
  const body = queue.take(queue.length - TAG_LENGTH);
  return { body, tag: Buffer.concat(queue.take(TAG_LENGTH)) };
}

type ByteQueue = { readonly length: number; append(bytes: Buffer): void; take(count: number): Buffer[] };

// Holds incoming buffers without copying them; take() hands out views.
function createByteQueue(): ByteQueue {
  const buffers: Buffer[] = [];
  let length = 0;
  return {
    get length() {
      return length;
    },
    append(bytes) {
      if (bytes.length === 0) return;
      buffers.push(bytes);
      length += bytes.length;
    },
    take(count) {
      const out: Buffer[] = [];
      let remaining = count;
      while (remaining > 0) {
        const first = buffers[0];
        if (first === undefined) break;
        if (first.length <= remaining) {
          out.push(first);
          buffers.shift();
          remaining -= first.length;
        } else {
          out.push(first.subarray(0, remaining));
          buffers[0] = first.subarray(remaining);
          remaining = 0;
        }
      }
      length -= count - remaining;
      return out;
    },
  };
}

async function readExactly(source: Readable, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const part of source) {
    const bytes = part as Buffer;
    parts.push(bytes);
    length += bytes.length;
    if (length > size) {
      source.destroy();
      throw decryptFailed();
    }
  }
  if (length < size) throw new AppError("stream_truncated", "sealed stream ended inside its header");
  return Buffer.concat(parts);
}

function rangeNotSatisfiable(): AppError {
  return new AppError("range_not_satisfiable", "requested range lies outside the plaintext");
}
