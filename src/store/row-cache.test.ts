import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInProcessChangeNotices, type ChangeNotices } from "./change-notices.ts";
import { createRowCache } from "./row-cache.ts";

type Row = { id: string; tenant: string; value: number };

// A loader that counts its database reads and returns whatever the "database" holds now.
function table(rows: Record<string, Row>) {
  let reads = 0;
  return {
    rows,
    load: (key: string) => async () => {
      reads++;
      return rows[key] ? { ...rows[key] } : undefined;
    },
    reads: () => reads,
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("row cache kept by change notices", () => {
  const notices = () => {
    let externalWrites = 0;
    const value = createInProcessChangeNotices(() => externalWrites);
    return { notices: value, writeFromAnotherProcess: () => { externalWrites++; } };
  };

  it("serves a row from memory after the first read, and reads again after a notice for it", async () => {
    const { notices: changes } = notices();
    const db = table({ k1: { id: "k1", tenant: "t1", value: 1 } });
    const cache = createRowCache<Row>(changes, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    assert.equal((await cache.get("k1", db.load("k1")))?.value, 1);
    assert.equal((await cache.get("k1", db.load("k1")))?.value, 1);
    assert.equal(db.reads(), 1);
    db.rows.k1!.value = 2;
    await changes.announce(undefined as never, "api_key", "k1");
    assert.equal((await cache.get("k1", db.load("k1")))?.value, 2);
    assert.equal(db.reads(), 2);
  });

  it("ignores notices of another topic or key, except the ones alsoDroppedBy names", async () => {
    const { notices: changes } = notices();
    const db = table({ k1: { id: "k1", tenant: "t1", value: 1 }, k2: { id: "k2", tenant: "t2", value: 1 } });
    const cache = createRowCache<Row>(changes, {
      topic: "api_key", maxEntries: 10, maxAgeMs: 60_000,
      alsoDroppedBy: (notice, row) => notice.topic === "tenant" && row.tenant === notice.key,
    });
    await cache.get("k1", db.load("k1"));
    await cache.get("k2", db.load("k2"));
    await changes.announce(undefined as never, "api_key", "other");
    await changes.announce(undefined as never, "tenant", "t1");
    await cache.get("k1", db.load("k1"));
    await cache.get("k2", db.load("k2"));
    assert.equal(db.reads(), 3, "only k1 (its company changed) was read again");
  });

  it("does not keep a row whose read overlapped a notice (it may be the old row)", async () => {
    const { notices: changes } = notices();
    const cache = createRowCache<Row>(changes, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    let reads = 0;
    const oldRow = { id: "k1", tenant: "t1", value: 1 };
    const slowLoad = async () => {
      reads++;
      const row = { ...oldRow };
      // The revocation commits and is announced while this read's result is on its way back.
      await changes.announce(undefined as never, "api_key", "k1");
      return row;
    };
    assert.equal((await cache.get("k1", slowLoad))?.value, 1);
    await cache.get("k1", slowLoad);
    assert.equal(reads, 2, "the overlapped row was not kept");
    assert.equal(cache.size(), 0);
  });

  it("keeps no row that does not exist (unknown ids cannot fill memory)", async () => {
    const { notices: changes } = notices();
    const db = table({});
    const cache = createRowCache<Row>(changes, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    for (let index = 0; index < 5; index++) assert.equal(await cache.get(`missing-${index}`, db.load(`missing-${index}`)), undefined);
    assert.equal(cache.size(), 0);
  });

  it("empties itself when another process writes the SQLite file (data_version moved)", async () => {
    const { notices: changes, writeFromAnotherProcess } = notices();
    const db = table({ k1: { id: "k1", tenant: "t1", value: 1 } });
    const cache = createRowCache<Row>(changes, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    await cache.get("k1", db.load("k1"));
    writeFromAnotherProcess();
    await nextTurn(); // the count is read once per turn of the event loop
    db.rows.k1!.value = 5;
    assert.equal((await cache.get("k1", db.load("k1")))?.value, 5);
    assert.equal(db.reads(), 2);
  });

  it("reads the database every time while notices may be missed, and without notices at all", async () => {
    let current = false;
    const silent: ChangeNotices = {
      announce: async () => {}, deliverHere: () => {}, subscribe: () => () => {}, isCurrent: () => current, close: async () => {},
    };
    const db = table({ k1: { id: "k1", tenant: "t1", value: 1 } });
    const cache = createRowCache<Row>(silent, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    await cache.get("k1", db.load("k1"));
    await cache.get("k1", db.load("k1"));
    assert.equal(db.reads(), 2);
    assert.equal(cache.size(), 0);
    current = true;
    await cache.get("k1", db.load("k1"));
    await cache.get("k1", db.load("k1"));
    assert.equal(db.reads(), 3);

    const none = createRowCache<Row>(undefined, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    await none.get("k1", db.load("k1"));
    await none.get("k1", db.load("k1"));
    assert.equal(db.reads(), 5);
  });

  it("forgets rows after maxAgeMs and holds at most maxEntries", async () => {
    const { notices: changes } = notices();
    let now = 1_000;
    const db = table(Object.fromEntries(["a", "b", "c"].map((id) => [id, { id, tenant: "t", value: 1 }])));
    const cache = createRowCache<Row>(changes, { topic: "api_key", maxEntries: 2, maxAgeMs: 500, now: () => now });
    await cache.get("a", db.load("a"));
    now += 499;
    await cache.get("a", db.load("a"));
    assert.equal(db.reads(), 1);
    now += 1;
    await cache.get("a", db.load("a"));
    assert.equal(db.reads(), 2, "read again once maxAgeMs had passed");
    await cache.get("b", db.load("b"));
    await cache.get("c", db.load("c"));
    assert.equal(cache.size(), 2);
    await cache.get("a", db.load("a"));
    assert.equal(db.reads(), 5, "the oldest row made room");
  });

  it("refresh replaces a kept row only", async () => {
    const { notices: changes } = notices();
    const db = table({ k1: { id: "k1", tenant: "t1", value: 1 } });
    const cache = createRowCache<Row>(changes, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    cache.refresh("k1", { id: "k1", tenant: "t1", value: 9 });
    assert.equal(cache.size(), 0);
    await cache.get("k1", db.load("k1"));
    cache.refresh("k1", { id: "k1", tenant: "t1", value: 9 });
    assert.equal((await cache.get("k1", db.load("k1")))?.value, 9);
  });

  it("peek answers from memory only: nothing before a read, nothing after a notice, an expiry, or without notices", async () => {
    const { notices: changes } = notices();
    const db = table({ k1: { id: "k1", tenant: "t1", value: 1 } });
    let clock = 0;
    const cache = createRowCache<Row>(changes, { topic: "api_key", maxEntries: 10, maxAgeMs: 1_000, now: () => clock });
    assert.equal(cache.peek("k1"), undefined);
    await cache.get("k1", db.load("k1"));
    assert.equal(cache.peek("k1")?.value, 1);
    await changes.announce(undefined as never, "api_key", "k1");
    assert.equal(cache.peek("k1"), undefined, "dropped by the notice");
    await cache.get("k1", db.load("k1"));
    clock += 1_000;
    assert.equal(cache.peek("k1"), undefined, "too old");
    const uncached = createRowCache<Row>(undefined, { topic: "api_key", maxEntries: 10, maxAgeMs: 60_000 });
    await uncached.get("k1", db.load("k1"));
    assert.equal(uncached.peek("k1"), undefined, "a node without notices never serves from memory");
  });
});
