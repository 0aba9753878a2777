// The counter store contract, proven on both implementations: fixed windows, atomic counting under
// parallel hits, capped distinct sets, expiring flags and listed entries. Redis runs for real.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CounterStore } from "./counter-store.ts";
import { createMemoryCounterStore } from "./memory-counter-store.ts";
import { createRedisCounterStore } from "./redis-counter-store.ts";
import { dropTestKeys, redisSkipReason, testKeyPrefix, testRedisUrl } from "./redis-for-tests.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const kinds = [
  { kind: "memory", skip: false as string | false, open: (_prefix: string) => createMemoryCounterStore() },
  { kind: "redis", skip: await redisSkipReason(), open: (prefix: string) => createRedisCounterStore({ url: testRedisUrl, keyPrefix: prefix }) },
];

for (const { kind, skip, open } of kinds) {
  describe(`counter store (${kind})`, { skip }, () => {
    let store: CounterStore;
    const prefix = testKeyPrefix();

    before(() => {
      store = open(prefix);
    });
    after(async () => {
      await store?.close();
      if (kind === "redis") await dropTestKeys(prefix);
    });

    it("counts hits in a fixed window that starts with the first hit, then starts again", async () => {
      const first = await store.hit("w", 300);
      assert.deepEqual(first.count, 1);
      assert.ok(first.resetInMs > 200 && first.resetInMs <= 300, String(first.resetInMs));
      await sleep(100);
      const second = await store.hit("w", 300);
      assert.equal(second.count, 2);
      assert.ok(second.resetInMs <= 210, "a later hit does not extend the window");
      await sleep(260);
      assert.equal((await store.hit("w", 300)).count, 1, "a new window");
    });

    it("counts parallel hits exactly once each", async () => {
      const counts = await Promise.all(Array.from({ length: 300 }, () => store.hit("parallel", 10_000)));
      assert.deepEqual(counts.map((result) => result.count).sort((a, b) => a - b), Array.from({ length: 300 }, (_, index) => index + 1));
    });

    it("keeps distinct members up to a cap and says which call added one", async () => {
      assert.deepEqual(await store.addDistinct("set", "a", 10_000, 3), { size: 1, added: true });
      assert.deepEqual(await store.addDistinct("set", "a", 10_000, 3), { size: 1, added: false });
      assert.deepEqual(await store.addDistinct("set", "b", 10_000, 3), { size: 2, added: true });
      const parallel = await Promise.all(["c", "d", "e", "f"].map((member) => store.addDistinct("set", member, 10_000, 3)));
      assert.equal(parallel.filter((result) => result.added).length, 1, "exactly one more fits under the cap");
      assert.ok(parallel.every((result) => result.size === 3));
      assert.deepEqual(await store.addDistinct("short", "a", 100, 3), { size: 1, added: true });
      await sleep(150);
      assert.deepEqual(await store.addDistinct("short", "b", 100, 3), { size: 1, added: true }, "the set expired");
    });

    it("flags expire and can be removed", async () => {
      await store.setFlag("flag", "v", 200);
      const flag = await store.getFlag("flag");
      assert.equal(flag?.value, "v");
      assert.ok(flag!.ttlMs > 100 && flag!.ttlMs <= 200);
      await sleep(250);
      assert.equal(await store.getFlag("flag"), undefined);
      await store.setFlag("gone", "v", 10_000);
      await store.hit("gone-count", 10_000);
      await store.remove(["gone", "gone-count"]);
      assert.equal(await store.getFlag("gone"), undefined);
      assert.equal((await store.hit("gone-count", 10_000)).count, 1);
    });

    it("lists live entries of a group, soonest to expire first, and removes them", async () => {
      await store.putListed("g", "198.51.100.1", "one", 5000);
      await store.putListed("g", "198.51.100.2", "two", 2000);
      await store.putListed("g", "198.51.100.3", "three", 150);
      await store.putListed("other", "198.51.100.1", "elsewhere", 5000);
      assert.deepEqual((await store.listGroup("g", 10)).map((entry) => entry.id), ["198.51.100.3", "198.51.100.2", "198.51.100.1"]);
      assert.deepEqual((await store.listGroup("g", 2)).map((entry) => entry.value), ["three", "two"]);
      await sleep(200);
      assert.deepEqual((await store.listGroup("g", 10)).map((entry) => entry.id), ["198.51.100.2", "198.51.100.1"], "expired entries drop out");
      assert.equal(await store.getListed("g", "198.51.100.3"), undefined);
      assert.equal((await store.getListed("g", "198.51.100.1"))?.value, "one");
      assert.equal(await store.removeListed("g", "198.51.100.1"), true);
      assert.equal(await store.removeListed("g", "198.51.100.1"), false);
      assert.equal(await store.getListed("g", "198.51.100.1"), undefined);
      assert.equal((await store.getListed("other", "198.51.100.1"))?.value, "elsewhere", "groups are separate");
    });
  });
}

describe("memory counter store bounds", () => {
  it("forgets the oldest counters when full, never the listed entries", async () => {
    const store = createMemoryCounterStore({ maxKeys: 100 });
    try {
      for (let index = 0; index < 50; index++) await store.putListed("ban", `a${index}`, "x", 60_000);
      for (let index = 0; index < 1000; index++) await store.hit(`k${index}`, 60_000);
      assert.equal((await store.hit("k999", 60_000)).count, 2, "recent counters survive");
      assert.equal((await store.hit("k0", 60_000)).count, 1, "the oldest were forgotten");
      assert.equal((await store.listGroup("ban", 1000)).length, 50);
    } finally {
      await store.close();
    }
  });
});

describe("redis counter store sharing and failure", { skip: await redisSkipReason() }, () => {
  it("two connections with one prefix share counts; another prefix does not", async () => {
    const prefix = testKeyPrefix();
    const a = createRedisCounterStore({ url: testRedisUrl, keyPrefix: prefix });
    const b = createRedisCounterStore({ url: testRedisUrl, keyPrefix: prefix });
    const other = createRedisCounterStore({ url: testRedisUrl, keyPrefix: testKeyPrefix() });
    try {
      const counts = await Promise.all(Array.from({ length: 100 }, (_, index) => (index % 2 ? a : b).hit("shared", 10_000)));
      assert.equal(Math.max(...counts.map((result) => result.count)), 100);
      await a.putListed("ban", "203.0.113.9", "x", 10_000);
      assert.equal((await b.getListed("ban", "203.0.113.9"))?.value, "x");
      assert.equal((await other.hit("shared", 10_000)).count, 1);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
      await dropTestKeys(prefix);
    }
  });

  it("an unreachable Redis makes every call fail, quickly (the guard then refuses)", async () => {
    const store = createRedisCounterStore({ url: "redis://127.0.0.1:1", keyPrefix: testKeyPrefix(), commandTimeoutMs: 500 });
    const started = Date.now();
    try {
      await assert.rejects(store.hit("x", 1000));
      await assert.rejects(store.getListed("ban", "203.0.113.9"));
      assert.ok(Date.now() - started < 5000, "calls fail within seconds, not for ever");
    } finally {
      await store.close();
    }
  });

  it("refuses a CA with a plaintext redis:// URL and a URL of another scheme", () => {
    assert.throws(() => createRedisCounterStore({ url: "redis://127.0.0.1:6379", keyPrefix: "x:", ca: "pem" }), { code: "config_invalid" });
    assert.throws(() => createRedisCounterStore({ url: "http://127.0.0.1:6379", keyPrefix: "x:" }), { code: "config_invalid" });
  });
});
