// Proves chunked blob streams: round trips, context binding, every truncation/reordering/tampering
// failure, and Range reads that decrypt exactly the chunks they need.

import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { describe, it } from "node:test";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../errors/app-error.ts";
import {
  createOpenStream,
  createSealStream,
  DEFAULT_CHUNK_SIZE,
  openRange,
  plaintextSizeOf,
  readStreamHeader,
  sealedSizeFor,
  STREAM_HEADER_LENGTH,
} from "./blob-stream.ts";
import { readEnvelopeKeyVersion } from "./envelope.ts";
import type { EncryptionContext, KeyEncryptionKey, KeyEncryptionKeyLookup } from "./key-encryption-key.ts";

const kekA: KeyEncryptionKey = { tenantId: "tenant-a", version: 2, key: randomBytes(32) };
const kekB: KeyEncryptionKey = { tenantId: "tenant-b", version: 2, key: randomBytes(32) };
const context: EncryptionContext = { tenantId: "tenant-a", objectType: "blob", objectId: "file-1", objectVersion: 1 };
const CHUNK = 64; // small chunks keep exhaustive tamper tests fast
const SEALED_CHUNK = CHUNK + 16;

const lookup: KeyEncryptionKeyLookup = async (tenantId, version) => {
  const kek = [kekA, kekB].find((k) => k.tenantId === tenantId && k.version === version);
  if (kek === undefined) throw new AppError("key_not_found", "no such key");
  return kek;
};
// Same key bytes for every tenant/version: only the associated data can tell contexts apart.
const sameKeyLookup: KeyEncryptionKeyLookup = async (tenantId, version) => ({ tenantId, version, key: kekA.key });

/** Splits bytes into irregular pieces so chunk reassembly is exercised. */
function pieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const size = Math.min(randomInt(1, 3 * CHUNK), bytes.length - offset);
    out.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

function collector(): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  return { sink, bytes: () => Buffer.concat(parts) };
}

async function seal(plaintext: Buffer, chunkSize = CHUNK, kek = kekA, ctx = context): Promise<Buffer> {
  const { sink, bytes } = collector();
  await pipeline(Readable.from(pieces(plaintext)), createSealStream(kek, ctx, { chunkSize }), sink);
  return bytes();
}

async function open(sealed: Buffer, ctx = context, keys = lookup): Promise<Buffer> {
  const { sink, bytes } = collector();
  await pipeline(Readable.from(pieces(sealed)), createOpenStream(keys, ctx), sink);
  return bytes();
}

/** Opens and expects failure; also returns what was emitted before the failure. */
async function openFails(sealed: Buffer, codes: string[], ctx = context, keys = lookup): Promise<Buffer> {
  const { sink, bytes } = collector();
  await assert.rejects(pipeline(Readable.from(pieces(sealed)), createOpenStream(keys, ctx), sink), (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.ok(codes.includes(error.code), `unexpected code ${error.code}`);
    return true;
  });
  return bytes();
}

const chunkAt = (sealed: Buffer, index: number): Buffer =>
  sealed.subarray(STREAM_HEADER_LENGTH + index * SEALED_CHUNK, STREAM_HEADER_LENGTH + (index + 1) * SEALED_CHUNK);
const header = (sealed: Buffer): Buffer => sealed.subarray(0, STREAM_HEADER_LENGTH);

describe("blob stream round trip", () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * CHUNK + 17]) {
    it(`round-trips ${size} bytes with ${CHUNK}-byte chunks`, async () => {
      const plaintext = randomBytes(size);
      const sealed = await seal(plaintext);
      assert.equal(sealed.length, sealedSizeFor(size, CHUNK));
      assert.equal(plaintextSizeOf(sealed.length, readStreamHeader(sealed)), size);
      assert.deepEqual(await open(sealed), plaintext);
    });
  }

  it("round-trips several MiB at the default chunk size and at 64 KiB", async () => {
    const plaintext = randomBytes(5 * 1024 * 1024 + 123);
    for (const chunkSize of [DEFAULT_CHUNK_SIZE, 64 * 1024]) {
      const { sink, bytes } = collector();
      await pipeline(Readable.from([plaintext]), createSealStream(kekA, context, { chunkSize }), sink);
      const sealed = bytes();
      assert.equal(sealed.length, sealedSizeFor(plaintext.length, chunkSize));
      const opened = collector();
      await pipeline(Readable.from([sealed]), createOpenStream(lookup, context), opened.sink);
      assert.ok(opened.bytes().equals(plaintext));
    }
  });

  it("seals an empty plaintext as one empty final chunk", async () => {
    const sealed = await seal(Buffer.alloc(0));
    assert.equal(sealed.length, STREAM_HEADER_LENGTH + 16);
  });

  it("writes a readable header with a random nonce prefix and fresh data key", async () => {
    const a = await seal(Buffer.from("x"));
    const b = await seal(Buffer.from("x"));
    assert.deepEqual([...a.subarray(0, 4)], [0x53, 0x52, 0x01, 0x02]);
    assert.equal(readEnvelopeKeyVersion(a), 2);
    assert.deepEqual(readStreamHeader(a), { headerLength: STREAM_HEADER_LENGTH, chunkSize: CHUNK, keyVersion: 2 });
    assert.notDeepEqual(a.subarray(8, 68), b.subarray(8, 68));
    assert.notDeepEqual(a.subarray(72, 79), b.subarray(72, 79));
  });

  it("refuses unusable chunk sizes and KEKs", () => {
    for (const chunkSize of [0, -1, 1.5, 16 * 1024 * 1024 + 1]) {
      assert.throws(() => createSealStream(kekA, context, { chunkSize }), { code: "internal_error" });
    }
    assert.throws(() => createSealStream(kekB, context), { code: "internal_error" });
  });

  it("refuses sizes beyond 2^32 chunks", () => {
    assert.throws(() => sealedSizeFor(2 ** 32 + 1, 1), { code: "payload_too_large" });
    assert.equal(sealedSizeFor(2 ** 32, 1), STREAM_HEADER_LENGTH + 2 ** 32 * 17);
  });
});

describe("blob stream context binding", () => {
  const plaintext = randomBytes(3 * CHUNK + 5);
  const moves: Array<[string, EncryptionContext]> = [
    ["tenant", { ...context, tenantId: "tenant-b" }],
    ["object type", { ...context, objectType: "avatar" }],
    ["object id", { ...context, objectId: "file-2" }],
    ["object version", { ...context, objectVersion: 2 }],
    ["field", { ...context, field: "content" }],
  ];
  for (const [what, moved] of moves) {
    it(`fails when moved to another ${what}, even under the same key bytes`, async () => {
      const sealed = await seal(plaintext);
      const emitted = await openFails(sealed, ["decrypt_failed"], moved, sameKeyLookup);
      assert.equal(emitted.length, 0);
    });
  }

  it("fails under another tenant's KEK", async () => {
    const sealed = await seal(plaintext);
    await openFails(sealed, ["decrypt_failed"], { ...context, tenantId: "tenant-b" });
    await openFails(sealed, ["decrypt_failed"], context, async () => ({ ...kekB, tenantId: "tenant-a" }));
  });

  it("passes an unknown KEK version through as key_not_found", async () => {
    const sealed = await seal(plaintext, CHUNK, { ...kekA, version: 9 });
    await openFails(sealed, ["key_not_found"]);
  });

  it("fails when a chunk is spliced in from another blob of the same context", async () => {
    const sealed = await seal(plaintext);
    const other = await seal(plaintext);
    const spliced = Buffer.concat([header(sealed), chunkAt(sealed, 0), chunkAt(other, 1), sealed.subarray(79 + 2 * SEALED_CHUNK)]);
    const emitted = await openFails(spliced, ["decrypt_failed"]);
    assert.deepEqual(emitted, plaintext.subarray(0, CHUNK));
  });
});

describe("blob stream tampering", () => {
  const plaintext = randomBytes(3 * CHUNK + 20); // chunks: 3 full + one final of 20 bytes

  it("fails on a flipped bit at every byte (header, wrapped key, chunk size, prefix, every chunk and tag), emitting only verified chunks", async () => {
    const sealed = await seal(plaintext);
    for (let position = 0; position < sealed.length; position++) {
      const tampered = Buffer.from(sealed);
      tampered[position]! ^= 0x01;
      const emitted = await openFails(tampered, ["decrypt_failed", "stream_truncated"], context, sameKeyLookup);
      const damagedChunk = Math.max(0, Math.floor((position - STREAM_HEADER_LENGTH) / SEALED_CHUNK));
      assert.ok(emitted.length <= damagedChunk * CHUNK, `emitted bytes of unverified chunk at ${position}`);
      assert.deepEqual(emitted, plaintext.subarray(0, emitted.length));
    }
  });

  it("fails on every truncation, with stream_truncated at chunk boundaries and when the final chunk is dropped", async () => {
    const sealed = await seal(plaintext);
    for (let length = 0; length < sealed.length; length++) {
      const atBoundary = length >= STREAM_HEADER_LENGTH && (length - STREAM_HEADER_LENGTH) % SEALED_CHUNK === 0;
      const codes = atBoundary || length < STREAM_HEADER_LENGTH + 16 ? ["stream_truncated"] : ["decrypt_failed", "stream_truncated"];
      await openFails(sealed.subarray(0, length), codes);
    }
  });

  it("fails with stream_truncated when the final chunk of an exact multiple of the chunk size is dropped", async () => {
    const sealed = await seal(randomBytes(3 * CHUNK));
    await openFails(sealed.subarray(0, STREAM_HEADER_LENGTH + 2 * SEALED_CHUNK), ["stream_truncated"]);
  });

  it("fails when chunks are swapped, duplicated or dropped", async () => {
    const sealed = await seal(plaintext);
    const [c0, c1, c2] = [0, 1, 2].map((i) => chunkAt(sealed, i)) as [Buffer, Buffer, Buffer];
    const last = sealed.subarray(STREAM_HEADER_LENGTH + 3 * SEALED_CHUNK);
    const h = header(sealed);
    for (const reordered of [
      [h, c1, c0, c2, last],
      [h, c0, c2, c1, last],
      [h, c2, c1, c0, last],
      [h, c0, c1, last, c2],
      [h, c0, c0, c1, c2, last],
      [h, c0, c1, c1, c2, last],
      [h, c0, c2, last],
      [h, c1, c2, last],
      [h, c0, c1, c2, last, last],
      [h, last],
    ]) {
      await openFails(Buffer.concat(reordered), ["decrypt_failed", "stream_truncated"]);
    }
  });

  it("fails on trailing data after the final chunk", async () => {
    const sealed = await seal(plaintext);
    for (const trailer of [Buffer.from([0]), randomBytes(16), randomBytes(SEALED_CHUNK), chunkAt(sealed, 0)]) {
      await openFails(Buffer.concat([sealed, trailer]), ["decrypt_failed"]);
    }
  });

  it("fails on an empty input and on a header alone", async () => {
    const sealed = await seal(plaintext);
    await openFails(Buffer.alloc(0), ["stream_truncated"]);
    await openFails(header(sealed), ["stream_truncated"]);
  });

  it("refuses a forged huge chunk size before buffering", async () => {
    const sealed = Buffer.from(await seal(plaintext));
    sealed.writeUInt32BE(0xffff_ffff, 68);
    await openFails(sealed, ["decrypt_failed"]);
  });

  it("reports an unsupported format version clearly", async () => {
    const sealed = Buffer.from(await seal(plaintext));
    sealed[2] = 0x09;
    await assert.rejects(open(sealed), { code: "decrypt_failed", message: /format version 9/ });
  });
});

describe("openRange", () => {
  const size = 10 * CHUNK + 37;
  const plaintext = randomBytes(size);
  const sealedPromise = seal(plaintext);

  type Reads = Array<[number, number]>;
  function reader(sealed: Buffer, reads: Reads, split = true) {
    return async (start: number, end: number): Promise<Readable> => {
      reads.push([start, end]);
      const bytes = sealed.subarray(start, end + 1);
      return Readable.from(split ? pieces(bytes) : [bytes]);
    };
  }

  async function readRange(sealed: Buffer, start: number, end: number, reads: Reads = []): Promise<Buffer> {
    const out = collector();
    await pipeline(await openRange(lookup, context, reader(sealed, reads), sealed.length, { start, end }), out.sink);
    return out.bytes();
  }

  it("returns exactly the requested bytes for many ranges, reading only the chunks needed", async () => {
    const sealed = await sealedPromise;
    const offsets = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 5 * CHUNK + 3, 10 * CHUNK - 1, 10 * CHUNK, size - 2, size - 1];
    const pairs: Array<[number, number]> = [];
    for (const start of offsets) for (const end of offsets) if (start <= end) pairs.push([start, end]);
    for (let i = 0; i < 40; i++) {
      const start = randomInt(0, size);
      pairs.push([start, randomInt(start, size)]);
    }
    for (const [start, end] of pairs) {
      const reads: Reads = [];
      const bytes = await readRange(sealed, start, end, reads);
      assert.ok(bytes.equals(plaintext.subarray(start, end + 1)), `range ${start}-${end}`);
      const first = Math.floor(start / CHUNK);
      const last = Math.floor(end / CHUNK);
      const expectedEnd = Math.min(STREAM_HEADER_LENGTH + (last + 1) * SEALED_CHUNK, sealed.length) - 1;
      assert.deepEqual(reads, [
        [0, STREAM_HEADER_LENGTH - 1],
        [STREAM_HEADER_LENGTH + first * SEALED_CHUNK, expectedEnd],
      ]);
    }
  });

  it("reads the whole file, a single-chunk file and an exact multiple of the chunk size", async () => {
    const sealed = await sealedPromise;
    const reads: Reads = [];
    assert.ok((await readRange(sealed, 0, size - 1, reads)).equals(plaintext));
    const requested = reads.reduce((sum, [start, end]) => sum + end - start + 1, 0);
    assert.equal(requested, sealed.length);

    const small = randomBytes(10);
    assert.ok((await readRange(await seal(small), 3, 9)).equals(small.subarray(3, 10)));
    const exact = randomBytes(4 * CHUNK);
    const exactSealed = await seal(exact);
    assert.ok((await readRange(exactSealed, 3 * CHUNK, 4 * CHUNK - 1)).equals(exact.subarray(3 * CHUNK)));
    assert.ok((await readRange(exactSealed, 2 * CHUNK + 5, 4 * CHUNK - 1)).equals(exact.subarray(2 * CHUNK + 5)));
  });

  it("refuses unsatisfiable ranges", async () => {
    const sealed = await sealedPromise;
    const empty = await seal(Buffer.alloc(0));
    const cases: Array<[Buffer, number, number]> = [
      [sealed, 5, 4],
      [sealed, -1, 3],
      [sealed, 0, size],
      [sealed, size, size],
      [sealed, 0.5, 3],
      [sealed, 0, Number.NaN],
      [empty, 0, 0],
    ];
    for (const [bytes, start, end] of cases) {
      await assert.rejects(openRange(lookup, context, reader(bytes, []), bytes.length, { start, end }), {
        code: "range_not_satisfiable",
      });
    }
  });

  it("fails on a tampered chunk in the range, emitting nothing from it", async () => {
    const sealed = Buffer.from(await sealedPromise);
    sealed[STREAM_HEADER_LENGTH + 3 * SEALED_CHUNK + 10]! ^= 0x01;
    const out = collector();
    const stream = await openRange(lookup, context, reader(sealed, []), sealed.length, { start: 2 * CHUNK, end: 4 * CHUNK });
    await assert.rejects(pipeline(stream, out.sink), { code: "decrypt_failed" });
    assert.ok(out.bytes().equals(plaintext.subarray(2 * CHUNK, 3 * CHUNK)));
    // A range that avoids the damaged chunk still reads.
    assert.ok((await readRange(sealed, 0, 3 * CHUNK - 1)).equals(plaintext.subarray(0, 3 * CHUNK)));
  });

  it("fails for another context or another tenant's key", async () => {
    const sealed = await sealedPromise;
    for (const moved of [{ ...context, objectId: "file-2" }, { ...context, objectVersion: 7 }]) {
      await assert.rejects(openRange(sameKeyLookup, moved, reader(sealed, []), sealed.length, { start: 0, end: 3 }), {
        code: "decrypt_failed",
      });
    }
    await assert.rejects(
      openRange(async () => ({ ...kekB, tenantId: "tenant-a" }), context, reader(sealed, []), sealed.length, { start: 0, end: 3 }),
      { code: "decrypt_failed" },
    );
  });

  it("detects a truncated blob through the last-chunk flag", async () => {
    const sealed = await sealedPromise;
    const truncated = sealed.subarray(0, STREAM_HEADER_LENGTH + 6 * SEALED_CHUNK);
    const stream = await openRange(lookup, context, reader(truncated, []), truncated.length, { start: 5 * CHUNK, end: 5 * CHUNK + 1 });
    await assert.rejects(pipeline(stream, collector().sink), { code: "decrypt_failed" });
    await assert.rejects(openRange(lookup, context, reader(sealed, []), STREAM_HEADER_LENGTH + 8, { start: 0, end: 0 }), {
      code: "stream_truncated",
    });
  });

  it("fails when storage returns too few or too many bytes", async () => {
    const sealed = await sealedPromise;
    const short = async (start: number, end: number) =>
      Readable.from([sealed.subarray(start, start === 0 ? end + 1 : end)]);
    const stream = await openRange(lookup, context, short, sealed.length, { start: 0, end: 2 * CHUNK });
    await assert.rejects(pipeline(stream, collector().sink), { code: "stream_truncated" });
    const long = async (start: number, end: number) => Readable.from([sealed.subarray(start, end + 2)]);
    await assert.rejects(openRange(lookup, context, long, sealed.length, { start: 0, end: 2 * CHUNK }), {
      code: "decrypt_failed",
    });
    const longBody = async (start: number, end: number) =>
      Readable.from([sealed.subarray(start, start === 0 ? end + 1 : end + 2)]);
    const stream2 = await openRange(lookup, context, longBody, sealed.length, { start: 0, end: 2 * CHUNK });
    await assert.rejects(pipeline(stream2, collector().sink), { code: "decrypt_failed" });
  });

  it("rejects a sealed size the sealer cannot produce", () => {
    const info = { headerLength: STREAM_HEADER_LENGTH, chunkSize: CHUNK };
    assert.throws(() => plaintextSizeOf(STREAM_HEADER_LENGTH + 15, info), { code: "stream_truncated" });
    assert.throws(() => plaintextSizeOf(STREAM_HEADER_LENGTH + SEALED_CHUNK + 5, info), { code: "stream_truncated" });
    assert.equal(plaintextSizeOf(STREAM_HEADER_LENGTH + SEALED_CHUNK + 16, info), CHUNK);
  });
});
