// Proves the file-system blob store: the shared contract plus atomic writes, temp-file cleanup
// and confinement to its root directory.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { after, before, describe, it } from "node:test";
import {
  chunksOf,
  collectKeys,
  describeBlobStoreContract,
  failingBody,
  invalidKeys,
  rejectsWithCode,
} from "./blob-store-contract.ts";
import { createFileBlobStore, type FileBlobStore } from "./blob-store-fs.ts";

describeBlobStoreContract("file blob store", async () => {
  const root = await mkdtemp(join(tmpdir(), "sr-test-blobs-"));
  return { store: createFileBlobStore(join(root, "blobs")), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe("file blob store specifics", () => {
  let sandbox: string;
  let root: string;
  let store: FileBlobStore;
  before(async () => {
    sandbox = await mkdtemp(join(tmpdir(), "sr-test-blobs-"));
    root = join(sandbox, "blobs");
    store = createFileBlobStore(root);
  });
  after(() => rm(sandbox, { recursive: true, force: true }));

  async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  }

  it("lays keys out as files under the root, readable only by the owner", async () => {
    await store.put("t1/objects/abc", chunksOf(Buffer.from("ciphertext"), 3));
    const info = await stat(join(root, "t1", "objects", "abc"));
    assert.equal(info.size, 10);
    assert.equal(info.mode & 0o777, 0o600);
  });

  it("leaves neither the blob nor a temp file after a failed put", async () => {
    await assert.rejects(store.put("t2/objects/partial", failingBody(randomBytes(300_000), 200_000, new Error("cut"))));
    assert.deepEqual(await readdir(join(root, "t2", "objects")), []);
  });

  it("never writes outside its root, whatever the key", async () => {
    const before = await readdir(sandbox);
    for (const key of invalidKeys) {
      await assert.rejects(store.put(key, chunksOf(Buffer.from("x"), 1)), rejectsWithCode("blob_key_invalid"));
    }
    assert.deepEqual(await readdir(sandbox), before);
  });

  it("keeps serving the version a reader opened while the key is replaced or deleted", async () => {
    const first = randomBytes(500_000);
    await store.put("t3/versioned", chunksOf(first, 65_536));
    const reading = await store.get("t3/versioned");
    await store.put("t3/versioned", chunksOf(Buffer.from("second"), 2));
    await store.delete("t3/versioned");
    assert.ok((await buffer(reading)).equals(first));
  });

  it("cleans up leftover temp files only", async () => {
    await store.put("t4/keep", chunksOf(Buffer.from("keep"), 2));
    const strays = [join(root, ".tmp-0123456789abcdef0123456789abcdef"), join(root, "t4", ".tmp-fedcba9876543210fedcba9876543210")];
    for (const path of strays) await writeFile(path, "half a blob");
    const unrelated = join(root, "t4", ".tmp-not-ours");
    await writeFile(unrelated, "x");
    assert.deepEqual(await collectKeys(store.list("t4/")), ["t4/keep"], "temp files are never listed");
    assert.equal(await store.cleanupTempFiles(), 2);
    const remaining = await filesUnder(join(root, "t4"));
    assert.deepEqual(remaining.sort(), [join(root, "t4", ".tmp-not-ours"), join(root, "t4", "keep")]);
    assert.equal(await createFileBlobStore(join(sandbox, "never-created")).cleanupTempFiles(), 0);
  });

  it("lists keys in ascending byte order, a directory's keys where they sort", async () => {
    const keys = ["t8/b", "t8/a/2", "t8/a/1", "t8/a.x", "t8/a-y", "t8/a0"];
    for (const key of keys) await store.put(key, chunksOf(Buffer.from(key), 3));
    assert.deepEqual(await collectKeys(store.list("t8/")), ["t8/a-y", "t8/a.x", "t8/a/1", "t8/a/2", "t8/a0", "t8/b"]);
  });

  it("lists nothing, and stats nothing, before the root exists", async () => {
    const fresh = createFileBlobStore(join(sandbox, "not-yet"));
    assert.deepEqual(await collectKeys(fresh.list("")), []);
    assert.equal(await fresh.stat("a"), undefined);
  });

  it("skips entries that are not blobs: symlinks and names that are not keys", async () => {
    const { symlink } = await import("node:fs/promises");
    await mkdir(join(root, "t5"), { recursive: true });
    await writeFile(join(sandbox, "outside"), "secret");
    await symlink(join(sandbox, "outside"), join(root, "t5", "link"));
    await writeFile(join(root, "t5", "UPPER"), "x");
    await store.put("t5/real", chunksOf(Buffer.from("r"), 1));
    assert.deepEqual(await collectKeys(store.list("t5/")), ["t5/real"]);
  });

  it("reports a key that collides with a directory of other keys as storage_failed", async () => {
    await store.put("t6/a/b", chunksOf(Buffer.from("x"), 1));
    await assert.rejects(store.put("t6/a", chunksOf(Buffer.from("y"), 1)), rejectsWithCode("storage_failed"));
    assert.deepEqual(await readdir(join(root, "t6")), ["a"], "no temp file left beside it");
    await store.put("t6/file", chunksOf(Buffer.from("x"), 1));
    await assert.rejects(store.put("t6/file/under", chunksOf(Buffer.from("y"), 1)), rejectsWithCode("storage_failed"));
  });

  it("streams a large blob through in bounded chunks", async () => {
    const bytes = randomBytes(8 * 1024 * 1024);
    assert.deepEqual(await store.put("t7/large", chunksOf(bytes, 1024 * 1024)), { size: bytes.length });
    let largestChunk = 0;
    const received: Buffer[] = [];
    for await (const chunk of await store.get("t7/large")) {
      largestChunk = Math.max(largestChunk, (chunk as Buffer).length);
      received.push(chunk as Buffer);
    }
    assert.ok(Buffer.concat(received).equals(bytes));
    assert.ok(largestChunk <= 1024 * 1024, `read in chunks of at most 1 MiB, got ${largestChunk}`);
  });

  it("reads a whole blob into a given buffer when it fits, and says when it does not", async () => {
    const bytes = randomBytes(5000);
    await store.put("t8/blob", chunksOf(bytes, 1000));
    await store.put("t8/empty", chunksOf(new Uint8Array(0), 1));
    const buffer = Buffer.alloc(8192);
    const read = await store.readInto("t8/blob", buffer);
    assert.ok(read?.equals(bytes));
    assert.equal(read!.buffer, buffer.buffer, "a view of the given buffer, not a copy");
    assert.equal((await store.readInto("t8/empty", buffer))?.length, 0);
    assert.equal(await store.readInto("t8/blob", Buffer.alloc(4999)), undefined);
    await assert.rejects(store.readInto("t8/missing", buffer), rejectsWithCode("blob_not_found"));
    await assert.rejects(store.readInto("t8", buffer), rejectsWithCode("blob_not_found"), "a directory is not a blob");
  });

  it("lists many directories in ascending order", async () => {
    const keys = Array.from({ length: 600 }, (_, index) => `t9/d${String(index).padStart(4, "0")}/v1`);
    for (const key of [...keys].reverse()) await store.put(key, chunksOf(Buffer.from("x"), 1));
    assert.deepEqual(await collectKeys(store.list("t9/")), keys);
    assert.deepEqual(await collectKeys(store.list("t9/d01")), keys.slice(100, 200));
  });
});
