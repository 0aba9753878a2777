// Proves the S3 blob store against a real S3-protocol server (s3rver): the shared contract plus
// multipart uploads, pagination, key prefixes, TLS with a private CA and configuration errors.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { buffer } from "node:stream/consumers";
import { after, before, describe, it } from "node:test";
import { startS3Server, type TestS3Server } from "../../test/support/s3-server.ts";
import {
  chunksOf,
  collectKeys,
  describeBlobStoreContract,
  failingBody,
  rejectsWithCode,
} from "./blob-store-contract.ts";
import { createS3BlobStore, type S3BlobStore, type S3BlobStoreConfig } from "./blob-store-s3.ts";

const MiB = 1024 * 1024;

function storeConfig(server: TestS3Server, extra: Partial<S3BlobStoreConfig> = {}): S3BlobStoreConfig {
  return {
    endpoint: server.endpoint,
    region: server.region,
    bucket: server.bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    ...extra,
  };
}

describeBlobStoreContract(
  "S3 blob store",
  async () => {
    const server = await startS3Server();
    const store = createS3BlobStore(storeConfig(server, { prefix: "contract" }));
    return {
      store,
      async cleanup() {
        store.close();
        await server.close();
      },
    };
  },
  { emptyBlobRangeUntestable: "s3rver resets the connection on a ranged GET of an empty object (AWS answers 416)" },
);

describe("S3 blob store specifics", () => {
  let server: TestS3Server;
  let store: S3BlobStore;
  before(async () => {
    server = await startS3Server();
    store = createS3BlobStore(storeConfig(server));
  });
  after(async () => {
    store.close();
    await server.close();
  });

  it("uploads a 12 MiB stream of unknown length as a multipart upload and reads ranges across parts", async () => {
    const bytes = randomBytes(12 * MiB);
    bytes[5 * MiB - 1] = 0;
    bytes[5 * MiB] = 0;
    assert.deepEqual(await store.put("big/blob", chunksOf(bytes, MiB)), { size: bytes.length });
    const parts = server.requests().filter((request) => /^PUT \/[^/]+\/big\/blob\?.*partNumber=/.test(request));
    assert.equal(parts.length, 3, "three parts: 5 + 5 + 2 MiB");
    assert.ok(server.requests().some((request) => /^POST \/[^/]+\/big\/blob\?uploadId=/.test(request)), "completed");
    assert.ok((await buffer(await store.get("big/blob"))).equals(bytes));
    for (const [start, end] of [
      [5 * MiB - 10, 5 * MiB + 10],
      [10 * MiB - 1, 10 * MiB],
      [12 * MiB - 1, 12 * MiB - 1],
      [3, 11 * MiB],
    ] as const) {
      const got = await buffer(await store.get("big/blob", { start, end }));
      assert.ok(got.equals(bytes.subarray(start, end + 1)), `bytes ${start}-${end}`);
    }
    assert.deepEqual(await store.stat("big/blob"), { size: 12 * MiB });
  });

  it("stores nothing when the source fails after several parts have been uploaded", async () => {
    const failure = new Error("upload cut off");
    await assert.rejects(store.put("big/partial", failingBody(randomBytes(12 * MiB), 11 * MiB, failure)), (error) => error === failure);
    assert.equal(await store.stat("big/partial"), undefined);
    assert.deepEqual(await collectKeys(store.list("big/partial")), []);
  });

  it("pages through long listings", async () => {
    const paged = createS3BlobStore(storeConfig(server, { listPageSize: 2 }));
    try {
      const keys = Array.from({ length: 7 }, (_, index) => `paged/k${index}`);
      for (const key of keys) await paged.put(key, chunksOf(Buffer.from(key), 4));
      assert.deepEqual(await collectKeys(paged.list("paged/")), keys);
    } finally {
      paged.close();
    }
  });

  it("keeps stores with different prefixes apart in one bucket", async () => {
    const alpha = createS3BlobStore(storeConfig(server, { prefix: "alpha" }));
    const beta = createS3BlobStore(storeConfig(server, { prefix: "beta/" }));
    try {
      await alpha.put("same/key", chunksOf(Buffer.from("alpha"), 2));
      await beta.put("same/key", chunksOf(Buffer.from("beta"), 2));
      assert.equal((await buffer(await alpha.get("same/key"))).toString(), "alpha");
      assert.equal((await buffer(await beta.get("same/key"))).toString(), "beta");
      assert.deepEqual(await collectKeys(alpha.list("")), ["same/key"]);
      await beta.delete("same/key");
      assert.deepEqual(await alpha.stat("same/key"), { size: 5 });
      assert.equal(await beta.stat("same/key"), undefined);
    } finally {
      alpha.close();
      beta.close();
    }
  });

  // s3rver checks the access key id but not SigV4 signatures, so an unknown id stands in for bad credentials.
  it("rejects unknown credentials as storage_failed, and verify() says so", async () => {
    const intruder = createS3BlobStore(storeConfig(server, { accessKeyId: "INTRUDER" }));
    try {
      await assert.rejects(intruder.put("x/y", chunksOf(Buffer.from("z"), 1)), rejectsWithCode("storage_failed"));
      await assert.rejects(intruder.get("big/blob"), rejectsWithCode("storage_failed"));
      await assert.rejects(intruder.verify(), rejectsWithCode("config_invalid"));
    } finally {
      intruder.close();
    }
  });

  it("reports a missing bucket as a configuration error, not as missing blobs", async () => {
    const lost = createS3BlobStore(storeConfig(server, { bucket: "no-such-bucket" }));
    try {
      await assert.rejects(lost.verify(), (error) => rejectsWithCode("config_invalid")(error) && /does not exist/.test(String(error)));
      await assert.rejects(lost.get("a"), rejectsWithCode("storage_failed"));
      await assert.rejects(lost.delete("a"), rejectsWithCode("storage_failed"));
      await assert.rejects(lost.put("a", chunksOf(Buffer.from("b"), 1)), rejectsWithCode("storage_failed"));
      await assert.rejects(collectKeys(lost.list("")), rejectsWithCode("storage_failed"));
    } finally {
      lost.close();
    }
    await store.verify();
  });

  it("reports an unreachable endpoint as storage_failed", async () => {
    const nowhere = createS3BlobStore(storeConfig(server, { endpoint: "http://127.0.0.1:1" }));
    try {
      await assert.rejects(nowhere.stat("a"), rejectsWithCode("storage_failed"));
    } finally {
      nowhere.close();
    }
  });

  it("rejects an invalid key prefix and TLS settings for a plain-HTTP endpoint", () => {
    assert.throws(() => createS3BlobStore(storeConfig(server, { prefix: "../up" })), rejectsWithCode("config_invalid"));
    assert.throws(() => createS3BlobStore(storeConfig(server, { prefix: "Upper" })), rejectsWithCode("config_invalid"));
    assert.throws(
      () => createS3BlobStore(storeConfig(server, { tls: { rejectUnauthorized: true } })),
      rejectsWithCode("config_invalid"),
    );
  });
});

describe("S3 blob store over TLS with a private CA", () => {
  let server: TestS3Server;
  before(async () => {
    server = await startS3Server({ tls: true });
  });
  after(() => server.close());

  it("verifies the server against the configured CA", async () => {
    const store = createS3BlobStore(storeConfig(server, { tls: { ca: server.ca, rejectUnauthorized: true } }));
    try {
      await store.verify();
      await store.put("tls/blob", chunksOf(Buffer.from("over tls"), 3));
      assert.equal((await buffer(await store.get("tls/blob", { start: 5, end: 7 }))).toString(), "tls");
    } finally {
      store.close();
    }
  });

  it("refuses a server whose certificate it cannot verify", async () => {
    for (const tls of [undefined, { rejectUnauthorized: true }]) {
      const store = createS3BlobStore(storeConfig(server, tls === undefined ? {} : { tls }));
      try {
        await assert.rejects(store.stat("tls/blob"), (error) => {
          assert.ok(rejectsWithCode("storage_failed")(error));
          assert.match(String((error as Error).message), /certificate|self.signed|issuer/i);
          return true;
        });
      } finally {
        store.close();
      }
    }
  });
});
