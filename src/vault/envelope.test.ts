// Proves the field envelope: round trips, context binding, and that every kind of tampering fails the same way.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { AppError } from "../errors/app-error.ts";
import {
  encodeEncryptionContext,
  openBytes,
  openString,
  readEnvelopeKeyVersion,
  sealBytes,
  sealString,
} from "./envelope.ts";
import type { EncryptionContext, KeyEncryptionKey, KeyEncryptionKeyLookup } from "./key-encryption-key.ts";

const kekA: KeyEncryptionKey = { tenantId: "tenant-a", version: 7, key: randomBytes(32) };
const kekB: KeyEncryptionKey = { tenantId: "tenant-b", version: 7, key: randomBytes(32) };
const context: EncryptionContext = {
  tenantId: "tenant-a",
  objectType: "document",
  objectId: "doc-1",
  objectVersion: 3,
  field: "title",
};

// Resolves each tenant's own KEK, as the real keyring does.
const lookup: KeyEncryptionKeyLookup = async (tenantId, version) => {
  const kek = [kekA, kekB].find((k) => k.tenantId === tenantId && k.version === version);
  if (kek === undefined) throw new AppError("key_not_found", "no such key");
  return kek;
};

// Hands out tenant A's key bytes under any tenant and version, so only the associated data can tell contexts apart.
const sameKeyLookup: KeyEncryptionKeyLookup = async (tenantId, version) => ({ tenantId, version, key: kekA.key });

async function rejectsWith(promise: Promise<unknown>, code: string, secret?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (secret !== undefined) assert.ok(!error.message.includes(secret), "error message leaks plaintext");
    assert.ok(!error.message.includes(kekA.key.toString("hex")), "error message leaks key bytes");
    return true;
  });
}

describe("sealBytes / openBytes", () => {
  it("round-trips empty, small and large values", async () => {
    for (const size of [0, 1, 15, 16, 17, 1000, 256 * 1024]) {
      const plaintext = randomBytes(size);
      const sealed = sealBytes(kekA, context, plaintext);
      assert.equal(sealed.length, 96 + size);
      assert.deepEqual(await openBytes(lookup, context, sealed), plaintext);
    }
  });

  it("round-trips strings, including non-ASCII", async () => {
    const text = "Grüße, 世界 🔐";
    assert.equal(await openString(lookup, context, sealString(kekA, context, text)), text);
  });

  it("accepts a Uint8Array view that is not a Buffer", async () => {
    const sealed = sealBytes(kekA, context, new Uint8Array([1, 2, 3]));
    const copy = new Uint8Array(sealed.length + 4);
    copy.set(sealed, 2);
    assert.deepEqual(await openBytes(lookup, context, copy.subarray(2, 2 + sealed.length)), Buffer.from([1, 2, 3]));
  });

  it("uses a fresh data key and nonce for every seal", () => {
    const a = sealString(kekA, context, "same");
    const b = sealString(kekA, context, "same");
    assert.notDeepEqual(a.subarray(8, 68), b.subarray(8, 68));
    assert.notDeepEqual(a.subarray(68), b.subarray(68));
  });

  it("records the format, kind and KEK version in a readable header", () => {
    const sealed = sealString(kekA, context, "x");
    assert.deepEqual([...sealed.subarray(0, 4)], [0x53, 0x52, 0x01, 0x01]);
    assert.equal(readEnvelopeKeyVersion(sealed), 7);
    assert.equal(readEnvelopeKeyVersion(sealBytes({ ...kekA, version: 0xffff_fffe }, context, Buffer.alloc(0))), 0xffff_fffe);
    assert.throws(() => readEnvelopeKeyVersion(Buffer.from("SR")), { code: "decrypt_failed" });
    assert.throws(() => readEnvelopeKeyVersion(Buffer.from("XX\x01\x01\0\0\0\x07")), { code: "decrypt_failed" });
  });

  it("asks the lookup for the context's tenant and the recorded KEK version", async () => {
    const calls: Array<[string, number]> = [];
    const sealed = sealString(kekA, context, "x");
    await openString(async (tenantId, version) => {
      calls.push([tenantId, version]);
      return kekA;
    }, context, sealed);
    assert.deepEqual(calls, [["tenant-a", 7]]);
  });
});

describe("context binding", () => {
  const sealed = sealString(kekA, context, "bound value");
  const moves: Array<[string, EncryptionContext]> = [
    ["tenant", { ...context, tenantId: "tenant-b" }],
    ["object type", { ...context, objectType: "template" }],
    ["object id", { ...context, objectId: "doc-2" }],
    ["object version", { ...context, objectVersion: 4 }],
    ["field", { ...context, field: "body" }],
    ["field removed", { ...context, field: undefined }],
    ["empty field", { ...context, field: "" }],
  ];
  for (const [what, moved] of moves) {
    it(`fails when moved to another ${what}, even under the same key bytes`, async () => {
      await rejectsWith(openBytes(sameKeyLookup, moved, sealed), "decrypt_failed", "bound value");
    });
  }

  it("fails under another tenant's own KEK", async () => {
    await rejectsWith(openBytes(lookup, { ...context, tenantId: "tenant-b" }, sealed), "decrypt_failed");
  });

  it("fails when the lookup returns the wrong key", async () => {
    await rejectsWith(openBytes(async () => ({ ...kekB, tenantId: "tenant-a" }), context, sealed), "decrypt_failed");
  });

  it("encodes contexts without ambiguity", () => {
    const encode = (c: Partial<EncryptionContext>) => encodeEncryptionContext({ ...context, ...c }).toString("hex");
    assert.notEqual(encode({ objectType: "ab", objectId: "c" }), encode({ objectType: "a", objectId: "bc" }));
    assert.notEqual(encode({ field: undefined }), encode({ field: "" }));
    assert.notEqual(encode({ objectVersion: 1 }), encode({ objectVersion: 256 }));
    assert.equal(encode({}), encode({}));
  });

  it("encodes a context to the same bytes as every earlier release (stored ciphertexts depend on it)", () => {
    const label = Buffer.from("strongroom.encryption-context.v1").toString("hex");
    assert.equal(
      encodeEncryptionContext({ tenantId: "të", objectType: "tenant", objectId: "x1", objectVersion: 258, field: "name" }).toString("hex"),
      `00000020${label}` + "0000000374c3ab" + "0000000674656e616e74" + "000000027831" + "0000000000000102" + "01" + "000000046e616d65",
    );
    assert.equal(
      encodeEncryptionContext({ tenantId: "t", objectType: "doc", objectId: "d", objectVersion: 1 }).toString("hex"),
      `00000020${label}` + "0000000174" + "00000003646f63" + "0000000164" + "0000000000000001" + "00",
    );
  });

  it("refuses contexts that cannot be encoded canonically", () => {
    assert.throws(() => sealString(kekA, { ...context, objectVersion: -1 }, "x"), { code: "internal_error" });
    assert.throws(() => sealString(kekA, { ...context, objectVersion: 1.5 }, "x"), { code: "internal_error" });
    assert.throws(() => sealString(kekA, { ...context, objectId: "\ud800" }, "x"), { code: "internal_error" });
  });

  it("refuses to seal with another tenant's KEK or a malformed key", () => {
    assert.throws(() => sealString(kekB, context, "x"), { code: "internal_error" });
    assert.throws(() => sealString({ ...kekA, key: randomBytes(16) }, context, "x"), { code: "internal_error" });
    assert.throws(() => sealString({ ...kekA, version: 2 ** 32 }, context, "x"), { code: "internal_error" });
  });
});

describe("tampering", () => {
  const secret = "very secret plaintext";
  const sealed = sealString(kekA, context, secret);

  it("fails on a flipped bit at every byte position (header, wrapped key, nonce, content, tag)", async () => {
    for (let position = 0; position < sealed.length; position++) {
      const tampered = Buffer.from(sealed);
      tampered[position]! ^= 0x01;
      await rejectsWith(openBytes(sameKeyLookup, context, tampered), "decrypt_failed", secret);
    }
  });

  it("uses one message for every authentication failure", async () => {
    const messages = new Set<string>();
    for (const position of [5, 10, 30, 60, 70, 85, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[position]! ^= 0x80;
      await openBytes(sameKeyLookup, context, tampered).catch((error: AppError) => messages.add(error.message));
    }
    assert.equal(messages.size, 1);
  });

  it("fails when the header names another KEK version, even one with the same key bytes", async () => {
    const tampered = Buffer.from(sealed);
    tampered.writeUInt32BE(8, 4);
    await rejectsWith(openBytes(sameKeyLookup, context, tampered), "decrypt_failed", secret);
  });

  it("fails on every truncation and on appended bytes", async () => {
    for (let length = 0; length < sealed.length; length++) {
      await rejectsWith(openBytes(lookup, context, sealed.subarray(0, length)), "decrypt_failed", secret);
    }
    await rejectsWith(openBytes(lookup, context, Buffer.concat([sealed, Buffer.from([0])])), "decrypt_failed");
  });

  it("fails when a wrapped key is transplanted from another envelope of the same context", async () => {
    const other = sealString(kekA, context, secret);
    const spliced = Buffer.concat([other.subarray(0, 68), sealed.subarray(68)]);
    await rejectsWith(openBytes(lookup, context, spliced), "decrypt_failed", secret);
  });

  it("reports an unsupported format version clearly", async () => {
    const future = Buffer.from(sealed);
    future[2] = 0x02;
    await assert.rejects(openBytes(lookup, context, future), { code: "decrypt_failed", message: /format version 2/ });
    assert.throws(() => readEnvelopeKeyVersion(future), { code: "decrypt_failed" });
  });

  it("refuses a stream envelope where a field is expected", async () => {
    const asStream = Buffer.from(sealed);
    asStream[3] = 0x02;
    await rejectsWith(openBytes(lookup, context, asStream), "decrypt_failed");
  });

  it("passes an unknown KEK version through as key_not_found", async () => {
    const unknown = sealString({ ...kekA, version: 99 }, context, secret);
    await rejectsWith(openBytes(lookup, context, unknown), "key_not_found");
  });
});
