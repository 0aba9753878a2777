// Test-only: the behaviour every BlobStore must show, run against each back end by its own test
// file (blob-store-fs.test.ts, blob-store-s3.test.ts) so the back ends stay interchangeable.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { after, before, describe, it } from "node:test";
import { isAppError, type ErrorCode } from "../errors/app-error.ts";
import type { BlobStore } from "./blob-store.ts";

export type BlobStoreFixture = { store: BlobStore; cleanup(): Promise<void> };

export type BlobStoreQuirks = {
  /** Why a ranged read of an empty blob cannot be tested on this server, if it cannot. */
  emptyBlobRangeUntestable?: string;
};

export const invalidKeys = [
  "",
  "../x",
  "a/../../b",
  "a/..",
  "..",
  "a..b",
  "/abs",
  "a//b",
  "a/",
  "a/./b",
  "./a",
  ".hidden",
  "a/.tmp-0123456789abcdef0123456789abcdef",
  "A",
  "a b",
  "a\\b",
  "a\0b",
  "é",
  "a\nb",
  "x".repeat(256),
];

export function randomBytesWithZeros(length: number): Buffer {
  const bytes = randomBytes(length);
  if (length > 0) {
    bytes[0] = 0;
    bytes[length >> 1] = 0;
    bytes[length - 1] = 0;
  }
  return bytes;
}

export async function* chunksOf(bytes: Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    yield bytes.subarray(offset, offset + chunkSize);
  }
}

/** Yields the first `failAfter` bytes in chunks, then fails as a broken upload would. */
export async function* failingBody(bytes: Uint8Array, failAfter: number, error: Error): AsyncGenerator<Uint8Array> {
  yield* chunksOf(bytes.subarray(0, failAfter), 64 * 1024);
  throw error;
}

export async function collectKeys(keys: AsyncIterable<string>): Promise<string[]> {
  const collected: string[] = [];
  for await (const key of keys) collected.push(key);
  return collected;
}

export function rejectsWithCode(code: ErrorCode): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isAppError(error), `expected AppError ${code}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

export function describeBlobStoreContract(
  name: string,
  open: () => Promise<BlobStoreFixture>,
  quirks: BlobStoreQuirks = {},
): void {
  describe(name, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;
    before(async () => {
      fixture = await open();
      store = fixture.store;
    });
    after(() => fixture?.cleanup());

    it("stores and returns exact bytes from an async iterable, a Readable and a Buffer-chunked stream", async () => {
      const bytes = randomBytesWithZeros(300_000);
      assert.deepEqual(await store.put("rt/iterable", chunksOf(bytes, 65_536)), { size: bytes.length });
      assert.deepEqual(await store.put("rt/readable", Readable.from([bytes.subarray(0, 7), bytes.subarray(7)])), {
        size: bytes.length,
      });
      for (const key of ["rt/iterable", "rt/readable"]) {
        assert.ok((await buffer(await store.get(key))).equals(bytes), key);
        assert.deepEqual(await store.stat(key), { size: bytes.length });
      }
    });

    it("stores an empty blob", async () => {
      assert.deepEqual(await store.put("empty/blob", chunksOf(new Uint8Array(0), 1)), { size: 0 });
      assert.equal((await buffer(await store.get("empty/blob"))).length, 0);
      assert.deepEqual(await store.stat("empty/blob"), { size: 0 });
    });

    it("replaces a blob on a second put", async () => {
      await store.put("replace/me", chunksOf(Buffer.from("first version, longer"), 4));
      await store.put("replace/me", chunksOf(Buffer.from("second"), 4));
      assert.equal((await buffer(await store.get("replace/me"))).toString(), "second");
      assert.deepEqual(await store.stat("replace/me"), { size: 6 });
    });

    it("returns exactly the requested inclusive byte ranges", async () => {
      const bytes = randomBytesWithZeros(100_000);
      await store.put("range/blob", chunksOf(bytes, 10_000));
      const cases: [number, number][] = [
        [0, 0],
        [0, 9],
        [1, 1],
        [12_345, 67_890],
        [99_999, 99_999],
        [0, 99_999],
        [50_000, 99_999],
      ];
      for (const [start, end] of cases) {
        const got = await buffer(await store.get("range/blob", { start, end }));
        assert.ok(got.equals(bytes.subarray(start, end + 1)), `bytes ${start}-${end}`);
      }
      // An end past the blob is clamped, as in HTTP.
      const tail = await buffer(await store.get("range/blob", { start: 99_990, end: 1_000_000 }));
      assert.ok(tail.equals(bytes.subarray(99_990)));
    });

    it("rejects ranges that start at or past the end, or are malformed", async () => {
      await store.put("range/small", chunksOf(Buffer.from("0123456789"), 3));
      for (const range of [
        { start: 10, end: 10 },
        { start: 11, end: 20 },
        { start: 5, end: 4 },
        { start: -1, end: 3 },
        { start: 0.5, end: 3 },
        { start: Number.NaN, end: 3 },
      ]) {
        await assert.rejects(store.get("range/small", range), rejectsWithCode("range_not_satisfiable"), JSON.stringify(range));
      }
    });

    it("rejects a ranged read of an empty blob", { skip: quirks.emptyBlobRangeUntestable ?? false }, async () => {
      await store.put("range/empty", chunksOf(new Uint8Array(0), 1));
      await assert.rejects(store.get("range/empty", { start: 0, end: 0 }), rejectsWithCode("range_not_satisfiable"));
    });

    it("reports a missing blob: get throws blob_not_found, stat is undefined, delete is a no-op", async () => {
      await assert.rejects(store.get("missing/blob"), rejectsWithCode("blob_not_found"));
      await assert.rejects(store.get("missing/blob", { start: 0, end: 1 }), rejectsWithCode("blob_not_found"));
      assert.equal(await store.stat("missing/blob"), undefined);
      await store.delete("missing/blob");
    });

    it("deletes a blob", async () => {
      await store.put("delete/me", chunksOf(Buffer.from("bye"), 1));
      await store.delete("delete/me");
      assert.equal(await store.stat("delete/me"), undefined);
      await assert.rejects(store.get("delete/me"), rejectsWithCode("blob_not_found"));
      assert.deepEqual(await collectKeys(store.list("delete/")), []);
    });

    it("does not treat a key prefix as a blob", async () => {
      await store.put("nested/dir/leaf", chunksOf(Buffer.from("x"), 1));
      assert.equal(await store.stat("nested/dir"), undefined);
      await assert.rejects(store.get("nested/dir"), rejectsWithCode("blob_not_found"));
    });

    it("lists exactly the keys under a prefix", async () => {
      const keys = ["list/t1/b", "list/t1/a/2", "list/t1/a/1", "list/t1/a.x", "list/t1/a-y", "list/t10/z", "list/t2/c"];
      for (const key of keys) await store.put(key, chunksOf(Buffer.from(key), 3));
      const sortedKeys = async (prefix: string) => (await collectKeys(store.list(prefix))).sort();
      const t1 = ["list/t1/a-y", "list/t1/a.x", "list/t1/a/1", "list/t1/a/2", "list/t1/b"];
      assert.deepEqual(await sortedKeys("list/t1/"), t1);
      assert.deepEqual(await sortedKeys("list/t1"), [...t1, "list/t10/z"]);
      assert.deepEqual(await sortedKeys("list/t1/a"), ["list/t1/a-y", "list/t1/a.x", "list/t1/a/1", "list/t1/a/2"]);
      assert.deepEqual(await sortedKeys("list/t1/a/"), ["list/t1/a/1", "list/t1/a/2"]);
      assert.deepEqual(await sortedKeys("list/none/"), []);
      const all = await sortedKeys("");
      assert.deepEqual(
        all.filter((key) => key.startsWith("list/")),
        [...keys].sort(),
      );
    });

    it("rejects invalid keys and prefixes before touching storage", async () => {
      for (const key of invalidKeys) {
        let consumed = false;
        const body = (async function* () {
          consumed = true;
          yield Buffer.from("x");
        })();
        await assert.rejects(store.put(key, body), rejectsWithCode("blob_key_invalid"), `put ${JSON.stringify(key)}`);
        assert.equal(consumed, false, "the body of a rejected put is not read");
        await assert.rejects(store.get(key), rejectsWithCode("blob_key_invalid"), `get ${JSON.stringify(key)}`);
        await assert.rejects(store.stat(key), rejectsWithCode("blob_key_invalid"), `stat ${JSON.stringify(key)}`);
        await assert.rejects(store.delete(key), rejectsWithCode("blob_key_invalid"), `delete ${JSON.stringify(key)}`);
      }
      for (const prefix of ["../", "/", "a//", "../etc", "A/", ".tmp-"]) {
        await assert.rejects(collectKeys(store.list(prefix)), rejectsWithCode("blob_key_invalid"), prefix);
      }
      // The longest valid key is accepted (in two segments: S3 servers backed by a file system
      // append suffixes to a single long name).
      const longest = `${"k".repeat(127)}/${"k".repeat(127)}`;
      assert.equal(longest.length, 255);
      await store.put(longest, chunksOf(Buffer.from("ok"), 1));
      assert.deepEqual(await store.stat(longest), { size: 2 });
    });

    it("stores nothing when the source stream fails half-way, and passes the source's error on", async () => {
      const failure = new Error("client went away");
      await assert.rejects(
        store.put("abort/new", failingBody(randomBytes(200_000), 100_000, failure)),
        (error) => error === failure,
      );
      assert.equal(await store.stat("abort/new"), undefined);
      await assert.rejects(store.get("abort/new"), rejectsWithCode("blob_not_found"));
      assert.deepEqual(await collectKeys(store.list("abort/")), []);
    });

    it("keeps the previous version when a replacing put fails", async () => {
      await store.put("abort/existing", chunksOf(Buffer.from("keep me"), 2));
      await assert.rejects(store.put("abort/existing", failingBody(randomBytes(10_000), 5_000, new Error("boom"))));
      assert.equal((await buffer(await store.get("abort/existing"))).toString(), "keep me");
    });

    it("stores nothing when a Readable source is destroyed with an error", async () => {
      const source = new Readable({ read() {} });
      source.push(randomBytes(1000));
      setTimeout(() => source.destroy(new Error("socket hang up")), 10);
      await assert.rejects(store.put("abort/readable", source), /socket hang up/);
      assert.equal(await store.stat("abort/readable"), undefined);
    });

    it("rejects a body that yields strings instead of bytes, storing nothing", async () => {
      const body = (async function* () {
        yield Buffer.from("ok");
        yield "text" as unknown as Uint8Array;
      })();
      await assert.rejects(store.put("abort/strings", body), TypeError);
      assert.equal(await store.stat("abort/strings"), undefined);
    });

    it("handles concurrent puts to different keys", async () => {
      const blobs = Array.from({ length: 8 }, (_, index) => [`concurrent/${index}`, randomBytes(50_000 + index)] as const);
      await Promise.all(blobs.map(([key, bytes]) => store.put(key, chunksOf(bytes, 8192))));
      for (const [key, bytes] of blobs) assert.ok((await buffer(await store.get(key))).equals(bytes), key);
    });
  });
}
