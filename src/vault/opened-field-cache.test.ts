// The vault keeps short fields it has opened as text; these tests prove that this never answers where
// a decryption would not: other contexts, altered bytes, a sealed vault, an erased key owner.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { databaseKinds, openTestDatabase, skipReason, unsealedVault, type TestDatabase } from "../../test/support/databases.ts";
import { createOpenedFieldCache } from "./opened-field-cache.ts";
import type { Vault } from "./vault.ts";

const context = (tenantId: string, field = "name") => ({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field });

describe("opened-field cache entries", () => {
  const sealedValue = (fill: number, length = 100) => Buffer.alloc(length, fill);

  it("answer only for the same context and the same bytes, and keep no long field", () => {
    const cache = createOpenedFieldCache();
    const sealed = sealedValue(7);
    cache.set(context("t1"), sealed, "Acme");
    assert.equal(cache.get(context("t1"), Buffer.from(sealed)), "Acme");
    assert.equal(cache.get(context("t2"), sealed), undefined);
    assert.equal(cache.get(context("t1", "email"), sealed), undefined);
    assert.equal(cache.get({ ...context("t1"), objectVersion: 2 }, sealed), undefined);
    assert.equal(cache.get({ ...context("t1"), field: undefined } as never, sealed), undefined);
    const sameNonceOtherBytes = Buffer.from(sealed);
    sameNonceOtherBytes[60] = 0;
    assert.equal(cache.get(context("t1"), sameNonceOtherBytes), undefined);
    assert.equal(cache.get(context("t1"), sealed.subarray(0, 99)), undefined, "a prefix of the bytes");
    const otherNonce = Buffer.from(sealed);
    otherNonce[15] = 0;
    assert.equal(cache.get(context("t1"), otherNonce), undefined, "another nonce");
    assert.equal(cache.get(context("t1"), new Uint8Array(sealed)), "Acme", "a plain Uint8Array");
    const padded = Buffer.alloc(sealed.length + 5);
    sealed.copy(padded, 5);
    assert.equal(cache.get(context("t1"), new Uint8Array(padded.buffer, padded.byteOffset + 5, sealed.length)), "Acme", "a view at an offset");
    cache.set(context("t1"), sealedValue(8, 513), "long");
    assert.equal(cache.get(context("t1"), sealedValue(8, 513)), undefined);
    assert.equal(cache.size(), 1);
  });

  it("forgets one key owner's entries, or all, and holds at most 2,000", () => {
    const cache = createOpenedFieldCache();
    cache.set(context("t1"), sealedValue(1), "A");
    cache.set(context("t2"), sealedValue(2), "B");
    cache.forgetOwner("t1");
    assert.equal(cache.get(context("t1"), sealedValue(1)), undefined);
    assert.equal(cache.get(context("t2"), sealedValue(2)), "B");
    cache.forgetAll();
    assert.equal(cache.size(), 0);
    const numbered = (index: number) => { const bytes = sealedValue(0); bytes.writeUInt32BE(index, 8); return bytes; };
    for (let index = 0; index < 2_100; index++) cache.set(context("t"), numbered(index), `x${index}`);
    assert.equal(cache.size(), 2_000);
    assert.equal(cache.get(context("t"), numbered(0)), undefined);
    assert.equal(cache.get(context("t"), numbered(2_099)), "x2099");
  });
});

for (const kind of databaseKinds) {
  describe(`opening a field again (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let share: string;

    before(async () => {
      test = await openTestDatabase(kind);
      ({ vault, share } = await unsealedVault(test.database));
    });
    after(() => test?.cleanup());

    it("gives the same text, and nothing for the same bytes under another context or for altered bytes", async () => {
      const sealed = await vault.data.sealString(context("t-a"), "Acme Ltd");
      assert.equal(await vault.data.openString(context("t-a"), sealed), "Acme Ltd");
      assert.equal(await vault.data.openString(context("t-a"), sealed), "Acme Ltd");
      await assert.rejects(vault.data.openString(context("t-a", "email"), sealed), { code: "decrypt_failed" });
      await assert.rejects(vault.data.openString({ ...context("t-a"), objectId: "other" }, sealed), { code: "decrypt_failed" });
      const altered = Buffer.from(sealed);
      altered[altered.length - 20]! ^= 1;
      await assert.rejects(vault.data.openString(context("t-a"), altered), { code: "decrypt_failed" });
    });

    it("refuses while the vault is sealed, and opens again once it is unsealed", async () => {
      const sealed = await vault.data.sealString(context("t-b"), "Beta GmbH");
      assert.equal(await vault.data.openString(context("t-b"), sealed), "Beta GmbH");
      await vault.seal();
      await assert.rejects(vault.data.openString(context("t-b"), sealed), { code: "sealed" });
      await vault.submitShare(share);
      assert.equal(await vault.data.openString(context("t-b"), sealed), "Beta GmbH");
    });

    it("refuses once the key owner is erased, while another owner's field still opens", async () => {
      const erased = await vault.data.sealString(context("t-c"), "Gamma SA");
      const kept = await vault.data.sealString(context("t-d"), "Delta AB");
      assert.equal(await vault.data.openString(context("t-c"), erased), "Gamma SA");
      assert.equal(await vault.data.openString(context("t-d"), kept), "Delta AB");
      await vault.tenantKeys.destroy("t-c");
      await assert.rejects(vault.data.openString(context("t-c"), erased), { code: "key_not_found" });
      assert.equal(await vault.data.openString(context("t-d"), kept), "Delta AB");
    });
  });
}
