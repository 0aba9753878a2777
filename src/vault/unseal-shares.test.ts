import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { combineShares, formatShare, parseShare, splitUnsealKey } from "./unseal-shares.ts";

const installation = "9f1c3a4e-0000-4000-8000-000000000001";

describe("unseal shares", () => {
  it("any threshold of the shares gives back the key", async () => {
    const key = randomBytes(32);
    const shares = await splitUnsealKey(key, 5, 3, installation);
    assert.equal(shares.length, 5);
    assert.equal(new Set(shares).size, 5);
    for (const pick of [[0, 1, 2], [4, 2, 0], [1, 3, 4]]) {
      const parsed = pick.map((index) => parseShare(shares[index]!, installation));
      assert.deepEqual(await combineShares(parsed), key);
    }
  });

  it("fewer than the threshold give a different key (Shamir has no integrity of its own)", async () => {
    const key = randomBytes(32);
    const shares = await splitUnsealKey(key, 5, 3, installation);
    const two = [shares[0]!, shares[1]!].map((share) => parseShare(share, installation));
    assert.notDeepEqual(await combineShares(two), key);
  });

  it("1-of-1 is the dev default", async () => {
    const key = randomBytes(32);
    const [share] = await splitUnsealKey(key, 1, 1, installation);
    assert.deepEqual(await combineShares([parseShare(share!, installation)]), key);
  });

  it("refuses impossible share counts", async () => {
    for (const [shares, threshold] of [[0, 0], [3, 4], [5, 1], [17, 3], [2.5, 2]] as const) {
      await assert.rejects(splitUnsealKey(randomBytes(32), shares, threshold, installation), { code: "bad_request" });
    }
  });

  it("reports a damaged, truncated or foreign share without echoing it", async () => {
    const [share] = await splitUnsealKey(randomBytes(32), 3, 2, installation);
    const flipped = share!.replace(/-([0-9a-f])/, (_, digit: string) => `-${digit === "0" ? "1" : "0"}`);
    for (const bad of [flipped, share!.slice(0, -3), "srs1-abc", "", "not a share at all", share!.replace("srs1", "srs2")]) {
      assert.throws(() => parseShare(bad, installation), (error: Error & { code: string }) => {
        assert.equal(error.code, "share_malformed");
        assert.ok(!bad || !error.message.includes(bad), "the error must not echo the share");
        return true;
      });
    }
    assert.throws(() => parseShare(share!, "another-installation"), { code: "share_foreign_installation" });
  });

  it("a share re-labelled for this installation but with wrong bytes still parses (caught later by the AEAD check)", () => {
    const forged = formatShare(randomBytes(33), installation);
    assert.equal(parseShare(forged, installation).bytes.length, 33);
  });
});
