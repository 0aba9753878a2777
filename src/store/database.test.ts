// Proves the query layer behaves the same on both dialects: bytes, integers, transactions, pragmas.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../test/support/databases.ts";
import { isAppError } from "../errors/app-error.ts";
import { openDatabase } from "./database.ts";
import { postgresPoolConfig } from "./open-postgres-database.ts";

const now = "2025-01-01T00:00:00.000Z";

function bytesWithZeros(length: number): Buffer {
  const bytes = randomBytes(length);
  bytes[0] = 0;
  bytes[length >> 1] = 0;
  bytes[length - 1] = 0;
  return bytes;
}

for (const kind of databaseKinds) {
  describe(`database on ${kind}`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    before(async () => {
      test = await openTestDatabase(kind);
    });
    after(() => test.cleanup());

    it("round-trips binary columns byte for byte, as Buffer", async () => {
      const { db } = test.database;
      const allByteValues = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
      const samples: [string, Uint8Array][] = [
        ["zeros-random", bytesWithZeros(4096)],
        ["all-values", allByteValues],
        ["only-zero", Buffer.alloc(1)],
        ["empty", Buffer.alloc(0)],
        // A plain Uint8Array (not a Buffer) is accepted as a parameter too.
        ["plain-uint8array", new Uint8Array(bytesWithZeros(100))],
      ];
      for (const [id, bytes] of samples) {
        await db.insertInto("tenants").values({ id, name_ciphertext: bytes, created_at: now }).execute();
      }
      for (const [id, bytes] of samples) {
        const row = await db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
        assert.ok(Buffer.isBuffer(row.name_ciphertext), `${id} reads back as a Buffer`);
        assert.deepEqual(Buffer.compare(row.name_ciphertext, bytes), 0, `${id} bytes are identical`);
        assert.equal(row.name_ciphertext.length, bytes.length);
      }
    });

    it("rejects a NULL text primary key", async () => {
      await assert.rejects(
        test.database.db
          .insertInto("tenants")
          .values({ id: null as unknown as string, name_ciphertext: Buffer.from([1]), created_at: now })
          .execute(),
      );
    });

    it("reads 64-bit columns as JS numbers within the safe range", async () => {
      const { db } = test.database;
      const big = 5 * 2 ** 30; // a 5 GiB blob: beyond a 32-bit integer
      await db
        .insertInto("blob_objects")
        .values({ tenant_id: "t", id: "b1", blob_key: "k", size: big, created_at: now })
        .execute();
      const row = await db.selectFrom("blob_objects").select("size").executeTakeFirstOrThrow();
      assert.equal(row.size, big);
      const counted = await db
        .selectFrom("blob_objects")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      assert.equal(counted.n, 1, "count(*) (int8 on PostgreSQL) is a number");
      await db
        .updateTable("blob_objects")
        .set({ size: Number.MAX_SAFE_INTEGER })
        .execute();
      assert.equal((await db.selectFrom("blob_objects").select("size").executeTakeFirstOrThrow()).size, Number.MAX_SAFE_INTEGER);
    });

    it("fails the query rather than round a 64-bit value beyond 2^53", async () => {
      const { db } = test.database;
      await db
        .insertInto("blob_objects")
        .values({ tenant_id: "t", id: "huge", blob_key: "k", size: 0, created_at: now })
        .execute();
      await sql`update blob_objects set size = 9007199254740993 where id = 'huge'`.execute(db);
      await assert.rejects(db.selectFrom("blob_objects").select("size").where("id", "=", "huge").execute());
      // The connection is still usable afterwards.
      await db.deleteFrom("blob_objects").where("id", "=", "huge").execute();
      await db.selectFrom("blob_objects").selectAll().execute();
    });

    it("commits a transaction and rolls back a failed one", async () => {
      const { db } = test.database;
      await db.transaction().execute(async (trx) => {
        await trx.insertInto("tenants").values({ id: "committed", name_ciphertext: Buffer.from([1]), created_at: now }).execute();
      });
      const failure = new Error("abort the transaction");
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto("tenants").values({ id: "rolled-back", name_ciphertext: Buffer.from([2]), created_at: now }).execute();
          await trx.updateTable("tenants").set({ created_at: "changed" }).where("id", "=", "committed").execute();
          throw failure;
        }),
        (error) => error === failure,
      );
      const rows = await db.selectFrom("tenants").select(["id", "created_at"]).where("id", "in", ["committed", "rolled-back"]).execute();
      assert.deepEqual(rows, [{ id: "committed", created_at: now }]);
    });

    it("rolls back a transaction that violates a constraint part-way", async () => {
      const { db } = test.database;
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto("tenants").values({ id: "first", name_ciphertext: Buffer.from([1]), created_at: now }).execute();
          await trx.insertInto("tenants").values({ id: "first", name_ciphertext: Buffer.from([1]), created_at: now }).execute();
        }),
      );
      assert.equal((await db.selectFrom("tenants").where("id", "=", "first").selectAll().execute()).length, 0);
    });

    it("serialises concurrent read-modify-write transactions without lost updates", async () => {
      const { db } = test.database;
      await db.insertInto("vault_keyring").values({ id: 1, revision: 0, ciphertext: Buffer.from([0]), updated_at: now }).execute();
      const bump = () =>
        db.transaction().execute(async (trx) => {
          // PostgreSQL needs the row lock; SQLite's single connection already serialises.
          const query = trx.selectFrom("vault_keyring").select("revision").where("id", "=", 1);
          const row = await (kind === "postgres" ? query.forUpdate() : query).executeTakeFirstOrThrow();
          await new Promise((resolve) => setTimeout(resolve, 5));
          await trx.updateTable("vault_keyring").set({ revision: row.revision + 1 }).where("id", "=", 1).execute();
        });
      await Promise.all(Array.from({ length: 8 }, bump));
      const row = await db.selectFrom("vault_keyring").select("revision").executeTakeFirstOrThrow();
      assert.equal(row.revision, 8);
    });
  });
}

describe("postgres TLS", { skip: await skipReason("postgres") }, () => {
  it("never falls back to plain text when TLS is configured", async () => {
    const test = await openTestDatabase("postgres", { migrate: false });
    try {
      if (test.config.kind !== "postgres") throw new Error("expected a PostgreSQL test database");
      const ssl = await sql<{ ssl: string }>`show ssl`.execute(test.database.db);
      if (ssl.rows[0]?.ssl === "on") return; // only meaningful against a server without TLS
      await assert.rejects(
        openDatabase({ ...test.config, tls: { rejectUnauthorized: true } }),
        (error) => isAppError(error) && error.code === "storage_failed" && /SSL/i.test(error.message),
      );
    } finally {
      await test.cleanup();
    }
  });
});

describe("sqlite specifics", () => {
  let test: TestDatabase;
  before(async () => {
    test = await openTestDatabase("sqlite");
  });
  after(() => test.cleanup());

  it("opens with WAL, synchronous FULL, foreign keys on and a 5 s busy timeout", async () => {
    const { db } = test.database;
    const pragma = async (name: string) => {
      const result = await sql.raw<Record<string, unknown>>(`PRAGMA ${name}`).execute(db);
      return result.rows[0]?.[name];
    };
    assert.equal(await pragma("journal_mode"), "wal");
    assert.equal(await pragma("synchronous"), 2); // FULL
    assert.equal(await pragma("foreign_keys"), 1);
    // node:sqlite reports the pragma's value under the column name "timeout".
    const busy = await sql.raw<Record<string, unknown>>("PRAGMA busy_timeout").execute(db);
    assert.deepEqual(Object.values(busy.rows[0] ?? {}), [5000]);
  });

  it("never interleaves two transactions on the single connection", async () => {
    const events: string[] = [];
    const run = (name: string) =>
      test.database.db.transaction().execute(async (trx) => {
        events.push(`${name} begin`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        await sql`select 1`.execute(trx);
        events.push(`${name} end`);
      });
    await Promise.all([run("a"), run("b")]);
    assert.deepEqual(events, ["a begin", "a end", "b begin", "b end"]);
  });

  it("creates a missing parent directory and closes cleanly without any query", async () => {
    const root = await mkdtemp(join(tmpdir(), "sr-test-db-"));
    try {
      const path = join(root, "nested", "deeper", "strongroom.sqlite");
      const database = await openDatabase({ kind: "sqlite", path });
      await database.close();
      const info = await stat(path);
      assert.ok(info.isFile());
      assert.equal(info.mode & 0o777, 0o600, "owner-only");
      const reopened = await openDatabase({ kind: "sqlite", path });
      await sql`select 1`.execute(reopened.db);
      await reopened.close();
      await reopened.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("reports a path that cannot be opened as storage_failed", async () => {
    const root = await mkdtemp(join(tmpdir(), "sr-test-db-"));
    try {
      // The path is an existing directory, not a database file.
      await assert.rejects(openDatabase({ kind: "sqlite", path: root }), (error) => {
        assert.ok(isAppError(error));
        assert.equal(error.code, "storage_failed");
        return true;
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("postgres connection errors", () => {
  it("fails to open with the reason and without the password when the server is unreachable", async () => {
    await assert.rejects(
      openDatabase({ kind: "postgres", url: "postgres://app:hunter2@127.0.0.1:1/strongroom" }),
      (error) => {
        assert.ok(isAppError(error));
        assert.equal(error.code, "storage_failed");
        assert.match(error.message, /ECONNREFUSED/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  });
});

describe("postgres pool configuration", () => {
  const url = "postgres://app@db.internal:5432/strongroom";

  it("passes verify-full style TLS settings to pg", () => {
    const config = postgresPoolConfig(url, {
      ca: "-----BEGIN CERTIFICATE-----ca",
      cert: "-----BEGIN CERTIFICATE-----client",
      key: "-----BEGIN PRIVATE KEY-----client",
      rejectUnauthorized: true,
      servername: "db.internal",
    });
    assert.deepEqual(config.ssl, {
      ca: "-----BEGIN CERTIFICATE-----ca",
      cert: "-----BEGIN CERTIFICATE-----client",
      key: "-----BEGIN PRIVATE KEY-----client",
      rejectUnauthorized: true,
      servername: "db.internal",
    });
  });

  it("leaves TLS to the URL when no TLS settings are given", () => {
    assert.equal(postgresPoolConfig(`${url}?sslmode=disable`, undefined).ssl, undefined);
  });

  it("parses int8 as a number and refuses unsafe values", () => {
    const parse = postgresPoolConfig(url, undefined).types?.getTypeParser(20, "text") as (text: string) => unknown;
    assert.equal(parse("42"), 42);
    assert.throws(() => parse("9223372036854775807"), (error) => isAppError(error) && error.code === "storage_failed");
  });

  for (const [why, badUrl, tls] of [
    ["TLS both in the URL and in the settings", `${url}?sslmode=require`, { rejectUnauthorized: true }],
    ["a client cert without its key", url, { rejectUnauthorized: true, cert: "pem" }],
    ["a URL that does not parse", "not a url", undefined],
    ["a non-PostgreSQL URL", "mysql://host/db", undefined],
  ] as const) {
    it(`rejects ${why} as config_invalid`, () => {
      assert.throws(
        () => postgresPoolConfig(badUrl, tls),
        (error) => isAppError(error) && error.code === "config_invalid",
      );
    });
  }
});
