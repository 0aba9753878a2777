// Proves chunked blob streams: round trips, context binding, every truncation/reordering/tampering
// failure, and Range reads that decrypt exactly the chunks they need.

import assert from "node:assert/strict";
import { createDecipheriv, randomBytes, randomInt } from "node:crypto";
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
import { encodeEncryptionContext, KEY_HEADER_LENGTH, readEnvelopeKeyVersion, unwrapDataKey } from "./envelope.ts";
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

  it("round-trips several MiB at the default chunk size and at the earlier defaults (64 KiB, 1 MiB)", async () => {
    const plaintext = randomBytes(5 * 1024 * 1024 + 123);
    for (const chunkSize of [DEFAULT_CHUNK_SIZE, 64 * 1024, 1024 * 1024]) {
      const { sink, bytes } = collector();
      await pipeline(Readable.from([plaintext]), createSealStream(kekA, context, { chunkSize }), sink);
      const sealed = bytes();
      assert.equal(sealed.length, sealedSizeFor(plaintext.length, chunkSize));
      const opened = collector();
      await pipeline(Readable.from([sealed]), createOpenStream(lookup, context), opened.sink);
      assert.ok(opened.bytes().equals(plaintext));
    }
  });

  it("hands out plaintext in pieces of at most 64 KiB, even from a sealed stream that arrives in one piece", async () => {
    // Large plaintext pieces left V8 without young-generation GCs during downloads (see MAX_OUTPUT_PIECE).
    const plaintext = randomBytes(2 * DEFAULT_CHUNK_SIZE + 70_000);
    const { sink, bytes } = collector();
    await pipeline(Readable.from([plaintext]), createSealStream(kekA, context), sink);
    const sizes: number[] = [];
    const opened: Buffer[] = [];
    await pipeline(Readable.from([bytes()]), createOpenStream(lookup, context), new Writable({
      write(chunk: Buffer, _encoding, callback) {
        sizes.push(chunk.length);
        opened.push(chunk);
        callback();
      },
    }));
    assert.ok(Buffer.concat(opened).equals(plaintext));
    assert.ok(Math.max(...sizes) <= 64 * 1024, `largest piece ${Math.max(...sizes)} bytes`);
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

describe("blob stream format stability and chunk independence", () => {
  // Sealed by the implementation before chunk ciphers took a key object and reused their nonce buffer
  // (commit dd43bcf), chunk size 64, plaintext byte i = (7i + 3) mod 256. They must keep opening.
  const fixtureKek: KeyEncryptionKey = {
    tenantId: "tenant-a",
    version: 3,
    key: Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex"),
  };
  const fixtureLookup: KeyEncryptionKeyLookup = async (tenantId, version) => {
    if (tenantId !== fixtureKek.tenantId || version !== fixtureKek.version) throw new AppError("key_not_found", "no such key");
    return fixtureKek;
  };
  const fixtureContext: EncryptionContext = { tenantId: "tenant-a", objectType: "blob", objectId: "format-v1-fixture", objectVersion: 1 };
  const fixturePlaintext = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff));
  const fixtures: Array<[number, string]> = [
    [
      200,
      "535201020000000393dcbe31907b8f0bafb7652fc7ece00dcb8f41c5cd91f1f1941060d4c151cd70b5f14ceb1a8d36a6" +
      "9580192e7cdc9f5356546bd97980eb18f909c9a50000004084f523f9022413b72c4ae76cfed5c7730d4080b8ffe4f847" +
      "f818f3b613a9560d0e0b9519f5384bc1e92cdfc9c63835ea0bd91dab69896480fc32e6978bc59899f4d93b0e648dcc5c" +
      "30c1d6c78e9efefedfdabf44343176d0550e768af5b00f7c17e1bcbd36d20b0f09a01136af4b868036a638fb7da66726" +
      "3dd5260eeade0c97b51dd1ca61fc62b6e967f8eccc34f149c1f6a59ca0e3985924a6a4588d13f212a05ec92c45430c77" +
      "5800d62a7c1bcd3441f9860066abb3ee15f0e0d498a109be325ec0850073c04a411138cf6f7d94ca4877012c0af3dd1d" +
      "8e006e4ea4cb3652e63d90f25c9caa2fee9786e6f6ecac3fc07a8b737a2e35613c2e92ecad4b19998bd714da14a43e8f" +
      "6b8199b6f98525",
    ],
    [
      128,
      "535201020000000372b65000a7857379957bb1a02708a13ad8a2f4cdf7c1648b7dcebc65d311bd8d298f08e66400e453" +
      "b2b22a5b4c1d3000baad1e4d5b47e68c8989fcc800000040df9441c94ec7b4bc0752169cbd9611677d5bdcd941ac1c17" +
      "c41641c49e7fc2fafe8d9f744188b898fac17a4941a698c95c95c8a4452f956c3f03736a42f9c579357f517d000d3d11" +
      "0fd565adf415f32a65176eddd73017469058d5af72eae1335887f50bb39b8d47af50e4ec1c41a69206b45607e6a00e85" +
      "b7b16a6409c7cefa05c4c2786c54f4f0a184a24ab4a132733fbe3d8e996283ce909c5415a8b018e131f499d3e95496",
    ],
    [
      0,
      "5352010200000003126a538e1540569583c4e59ffc2e3047dd12d396ee3307818a6dc2283da45b04e4552cffbb7d66fe" +
      "7509d6f28598d42a6df403aaabd03fa8e8892d6300000040df861746604bcc068c959b2e5868a857b3a5f9225c4315",
    ],
  ];

  for (const [length, hex] of fixtures) {
    it(`opens a ${length}-byte blob sealed by the previous implementation, and still detects tampering in it`, async () => {
      const sealed = Buffer.from(hex, "hex");
      assert.equal(sealed.length, sealedSizeFor(length, CHUNK));
      assert.deepEqual(await open(sealed, fixtureContext, fixtureLookup), fixturePlaintext(length));
      const tampered = Buffer.from(sealed);
      tampered[tampered.length - 1]! ^= 0x80;
      await openFails(tampered, ["decrypt_failed"], fixtureContext, fixtureLookup);
      await openFails(sealed, ["decrypt_failed"], { ...fixtureContext, objectVersion: 2 }, fixtureLookup);
    });
  }

  it("opens a Range of a blob sealed by the previous implementation", async () => {
    const sealed = Buffer.from(fixtures[0]![1], "hex");
    const range = { start: 60, end: 140 };
    const stream = await openRange(fixtureLookup, fixtureContext, async (start, end) => Readable.from([sealed.subarray(start, end + 1)]), sealed.length, range);
    const { sink, bytes } = collector();
    await pipeline(stream, sink);
    assert.deepEqual(bytes(), fixturePlaintext(200).subarray(range.start, range.end + 1));
  });

  /** Decrypts every chunk on its own, straight from the documented layout, with no state shared between chunks. */
  async function openByLayout(sealed: Buffer, chunkSize: number): Promise<Buffer> {
    const headerBytes = sealed.subarray(0, STREAM_HEADER_LENGTH);
    const dek = await unwrapDataKey(lookup, context, headerBytes.subarray(0, KEY_HEADER_LENGTH), "stream");
    const aad = Buffer.concat([headerBytes, encodeEncryptionContext(context)]);
    const sealedChunk = chunkSize + 16;
    const count = Math.ceil((sealed.length - STREAM_HEADER_LENGTH) / sealedChunk);
    const out: Buffer[] = [];
    for (let index = 0; index < count; index++) {
      const start = STREAM_HEADER_LENGTH + index * sealedChunk;
      const chunk = sealed.subarray(start, Math.min(start + sealedChunk, sealed.length));
      const nonce = Buffer.alloc(12);
      headerBytes.copy(nonce, 0, 72, 79);
      nonce.writeUInt32BE(index, 7);
      nonce[11] = index === count - 1 ? 1 : 0;
      const decipher = createDecipheriv("aes-256-gcm", dek, nonce, { authTagLength: 16 });
      decipher.setAAD(aad);
      decipher.setAuthTag(chunk.subarray(chunk.length - 16));
      out.push(decipher.update(chunk.subarray(0, chunk.length - 16)), decipher.final());
    }
    return Buffer.concat(out);
  }

  it("seals every chunk of a long stream under its own nonce (prefix, counter, last flag), nothing carried over", async () => {
    const plaintext = randomBytes(300 * CHUNK + 5);
    const sealed = await seal(plaintext);
    assert.deepEqual(await openByLayout(sealed, CHUNK), plaintext);
    assert.deepEqual(await open(sealed), plaintext);

    const big = randomBytes(3 * DEFAULT_CHUNK_SIZE + 1000);
    const { sink, bytes } = collector();
    await pipeline(Readable.from([big.subarray(0, 100_000), big.subarray(100_000)]), createSealStream(kekA, context), sink);
    assert.deepEqual(await openByLayout(bytes(), DEFAULT_CHUNK_SIZE), big);
  });

  it("seals identical plaintext chunks to distinct ciphertexts and tags", async () => {
    const sealed = await seal(Buffer.alloc(200 * CHUNK));
    const seen = new Set<string>();
    for (let index = 0; index < 200; index++) seen.add(chunkAt(sealed, index).toString("hex"));
    assert.equal(seen.size, 200);
  });

  it("detects a flipped bit deep in a long stream, emitting only the chunks before it", async () => {
    const plaintext = randomBytes(200 * CHUNK + 9);
    const sealed = await seal(plaintext);
    for (const [damagedChunk, offset] of [[0, 0], [57, 3], [150, CHUNK + 2], [199, CHUNK + 15], [200, 4]] as const) {
      const tampered = Buffer.from(sealed);
      tampered[STREAM_HEADER_LENGTH + damagedChunk * SEALED_CHUNK + offset]! ^= 0x10;
      const emitted = await openFails(tampered, ["decrypt_failed"]);
      assert.ok(emitted.length <= damagedChunk * CHUNK);
      assert.deepEqual(emitted, plaintext.subarray(0, emitted.length));
    }
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

  it("at the default chunk size, returns ranges inside and across chunks from whole-chunk reads, in pieces of at most 64 KiB", async () => {
    const big = randomBytes(3 * DEFAULT_CHUNK_SIZE + 1000);
    const { sink, bytes } = collector();
    await pipeline(Readable.from([big]), createSealStream(kekA, context), sink);
    const sealed = bytes();
    const ranges: Array<[number, number]> = [
      [100_000, 150_000], [DEFAULT_CHUNK_SIZE - 70_000, DEFAULT_CHUNK_SIZE + 70_000], [1, 2 * DEFAULT_CHUNK_SIZE + 5], [3 * DEFAULT_CHUNK_SIZE, big.length - 1],
    ];
    for (const [start, end] of ranges) {
      const sizes: number[] = [];
      const parts: Buffer[] = [];
      await pipeline(await openRange(lookup, context, reader(sealed, [], false), sealed.length, { start, end }), new Writable({
        write(chunk: Buffer, _encoding, callback) {
          sizes.push(chunk.length);
          parts.push(chunk);
          callback();
        },
      }));
      assert.ok(Buffer.concat(parts).equals(big.subarray(start, end + 1)), `range ${start}-${end}`);
      assert.ok(Math.max(...sizes) <= 64 * 1024, `range ${start}-${end}: largest piece ${Math.max(...sizes)} bytes`);
    }
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
