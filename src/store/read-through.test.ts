import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Transform } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createFileBlobStore } from "./blob-store-fs.ts";
import { readThrough } from "./blob-store.ts";

describe("readThrough (a blob read piped through decryption)", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "sr-read-through-"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("closes the blob's file when the reader stops early (a client that hangs up)", async () => {
    const store = createFileBlobStore(root);
    await store.put("blob", Readable.from([Buffer.alloc(3 * 1024 * 1024, 1)]));
    const source = await store.get("blob");
    const result = readThrough(source, new PassThrough());
    await once(result, "readable");
    result.destroy();
    await once(source, "close");
    assert.equal(source.destroyed, true);
  });

  it("hands a failed read to whoever reads the result", async () => {
    const failing = new Readable({ read() { this.destroy(new Error("disk went away")); } });
    const result = readThrough(failing, new Transform({ transform: (chunk, _encoding, callback) => callback(null, chunk) }));
    await assert.rejects(async () => { for await (const _ of result) { /* drain */ } }, /disk went away/);
  });

  it("reads a small blob whole and an empty blob as nothing", async () => {
    const store = createFileBlobStore(root);
    await store.put("small", Readable.from([Buffer.from("four")]));
    await store.put("empty", Readable.from([]));
    const collect = async (key: string) => Buffer.concat(await (readThrough(await store.get(key), new PassThrough())).toArray());
    assert.equal((await collect("small")).toString(), "four");
    assert.equal((await collect("empty")).length, 0);
  });
});
