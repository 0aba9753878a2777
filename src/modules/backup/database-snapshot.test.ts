// The SQLite snapshot under a steady stream of writes from another connection, as a live server makes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { snapshotDatabase } from "./database-snapshot.ts";

describe("SQLite snapshot", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sr-snapshot-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("finishes while another connection keeps writing, and holds one consistent state", async () => {
    const path = join(dir, "live.db");
    const writer = new DatabaseSync(path);
    writer.exec("PRAGMA journal_mode = WAL; CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    const insert = writer.prepare("INSERT INTO rows (body) VALUES (?)");
    writer.exec("BEGIN");
    for (let index = 0; index < 8000; index++) insert.run(randomBytes(2000)); // ~16 MB: thousands of pages
    writer.exec("COMMIT");
    // A write every millisecond or so for as long as the snapshot runs (copied 100 pages at a time, the
    // copy would start over after each of them and not finish while they go on).
    let writing = true;
    const writes = (async () => {
      while (writing) {
        insert.run(randomBytes(100));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const before = (writer.prepare("SELECT count(*) AS n FROM rows").get() as { n: number }).n;
    const file = join(dir, "snapshot.db");
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("the snapshot did not finish in 20 s")), 20_000).unref());
    try {
      await Promise.race([snapshotDatabase({ kind: "sqlite", path }, file, undefined), timeout]);
    } finally {
      writing = false;
      await writes;
    }
    const afterCount = (writer.prepare("SELECT count(*) AS n FROM rows").get() as { n: number }).n;
    writer.close();
    const snapshot = new DatabaseSync(file, { readOnly: true });
    try {
      assert.equal((snapshot.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok");
      const rows = (snapshot.prepare("SELECT count(*) AS n, max(id) AS last FROM rows").get() as { n: number; last: number });
      assert.ok(rows.n >= before && rows.n <= afterCount, `${rows.n} rows, between ${before} and ${afterCount}`);
      assert.equal(rows.last, rows.n, "no row missing below the last one copied");
    } finally {
      snapshot.close();
    }
  });
});
