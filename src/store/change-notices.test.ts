// Change notices on the real databases: SQLite (one node; another process's write is noticed) and
// PostgreSQL (two nodes, each with its own pool and listening connection, on one database).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { nextNotice, waitUntil } from "../../test/support/change-notices.ts";
import { openTestDatabase, skipReason, type TestDatabase } from "../../test/support/databases.ts";
import { changeNoticesOf, decodeNotice, encodeNotice, writeAndAnnounce, type ChangeNotice, type ChangeNotices } from "./change-notices.ts";
import { openDatabase, type Database } from "./database.ts";
import { listenerApplicationName } from "./postgres-change-notices.ts";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function noticesOf(database: Database): ChangeNotices {
  const notices = changeNoticesOf(database.db);
  assert.ok(notices, "an opened database carries change notices");
  return notices;
}

describe("change notice payloads", () => {
  it("round-trip a topic and key; anything else means everything changed", () => {
    assert.deepEqual(decodeNotice(encodeNotice("api_key", "srk_1:x")), { topic: "api_key", key: "srk_1:x" });
    assert.deepEqual(decodeNotice(encodeNotice("tenant", "t-1")), { topic: "tenant", key: "t-1" });
    for (const payload of ["", "api_key", "api_key:", "documents:x", ":x", `tenant:${"x".repeat(201)}`]) {
      assert.deepEqual(decodeNotice(payload), { topic: "all" }, payload);
    }
  });
});

describe("change notices on SQLite (one node)", () => {
  let test: TestDatabase;
  let other: Database;
  before(async () => {
    test = await openTestDatabase("sqlite");
    other = await openDatabase(test.config);
  });
  after(async () => {
    await other.close();
    await test.cleanup();
  });

  it("delivers an announcement in the process at once", async () => {
    const notices = noticesOf(test.database);
    const seen: ChangeNotice[] = [];
    const unsubscribe = notices.subscribe((notice) => seen.push(notice));
    await notices.announce(test.database.db, "api_key", "srk_a");
    unsubscribe();
    assert.deepEqual(seen, [{ topic: "api_key", key: "srk_a" }]);
    assert.equal(notices.isCurrent(), true);
  });

  it("tells every cache that everything changed once another connection has written the file", async () => {
    const notices = noticesOf(test.database);
    await nextTurn();
    notices.isCurrent();
    const seen: ChangeNotice[] = [];
    const unsubscribe = notices.subscribe((notice) => seen.push(notice));
    await sql`create table own_write (a integer)`.execute(test.database.db);
    await nextTurn();
    notices.isCurrent();
    assert.deepEqual(seen, [], "its own writes are announced by the writer, not seen here");
    await sql`create table other_write (a integer)`.execute(other.db);
    await nextTurn();
    notices.isCurrent();
    unsubscribe();
    assert.deepEqual(seen, [{ topic: "all" }]);
  });
});

describe("change notices on PostgreSQL (two nodes)", { skip: await skipReason("postgres") }, () => {
  let test: TestDatabase;
  let nodeB: Database;
  before(async () => {
    test = await openTestDatabase("postgres");
    nodeB = await openDatabase(test.config);
    await waitUntil(() => noticesOf(test.database).isCurrent() && noticesOf(nodeB).isCurrent(), "both nodes listen");
  });
  after(async () => {
    await nodeB.close();
    await test.cleanup();
  });

  it("delivers a committed announcement to the other node, and to its own node at once", async () => {
    const nodeA = test.database;
    const arrived = nextNotice(noticesOf(nodeB), (notice) => notice.topic === "api_key" && notice.key === "srk_committed");
    const local: ChangeNotice[] = [];
    const unsubscribe = noticesOf(nodeA).subscribe((notice) => local.push(notice));
    await nodeA.db.transaction().execute(async (trx) => {
      await noticesOf(nodeA).announce(trx, "api_key", "srk_committed");
      assert.deepEqual(local, [{ topic: "api_key", key: "srk_committed" }], "the writing node drops its copy before the commit");
    });
    unsubscribe();
    assert.deepEqual(await arrived, { topic: "api_key", key: "srk_committed" });
  });

  it("writeAndAnnounce tells the writing node again after the commit, the other node once", async () => {
    const nodeA = test.database;
    const here: ChangeNotice[] = [];
    const unsubscribe = noticesOf(nodeA).subscribe((notice) => { if (notice.topic === "tenant" && notice.key === "written") here.push(notice); });
    const arrived = nextNotice(noticesOf(nodeB), (notice) => notice.topic === "tenant" && notice.key === "written");
    const result = await writeAndAnnounce(nodeA.db, "tenant", "written", async (trx) => {
      await sql`select 1`.execute(trx);
      assert.equal(here.length, 0);
      return "done";
    });
    assert.equal(result, "done");
    assert.ok(here.length >= 2, "before the commit and after it (and the listener's copy may follow)");
    await arrived;
    unsubscribe();
  });

  it("sends nothing to other nodes for a transaction that rolls back", async () => {
    const nodeA = test.database;
    const seen: ChangeNotice[] = [];
    const unsubscribe = noticesOf(nodeB).subscribe((notice) => seen.push(notice));
    await assert.rejects(nodeA.db.transaction().execute(async (trx) => {
      await noticesOf(nodeA).announce(trx, "tenant", "rolled-back");
      throw new Error("the write failed");
    }), /the write failed/);
    // Notices arrive in commit order: once a later one is here, the rolled-back one would have been too.
    const marker = nextNotice(noticesOf(nodeB), (notice) => notice.topic === "tenant" && notice.key === "marker");
    await noticesOf(nodeA).announce(nodeA.db, "tenant", "marker");
    await marker;
    unsubscribe();
    assert.deepEqual(seen, [{ topic: "tenant", key: "marker" }]);
  });

  it("is not current while its listening connection is down, and empties every cache once it listens again", async () => {
    const notices = noticesOf(nodeB);
    const everything = nextNotice(notices, (notice) => notice.topic === "all", 15_000);
    // Ends every listening connection of this test database (both nodes), as a restart of PostgreSQL would.
    const terminated = await sql<{ pid: number }>`
      select pg_terminate_backend(pid) as pid from pg_stat_activity
      where application_name = ${listenerApplicationName} and datname = current_database()`.execute(test.database.db);
    assert.ok(terminated.rows.length >= 1);
    await waitUntil(() => !notices.isCurrent(), "node B knows it may miss notices");
    await everything;
    await waitUntil(() => notices.isCurrent(), "node B listens again");
    const arrived = nextNotice(notices, (notice) => notice.topic === "api_key" && notice.key === "after-reconnect");
    await noticesOf(test.database).announce(test.database.db, "api_key", "after-reconnect");
    await arrived;
  });
});
