// Notices that rows an in-memory cache may hold have changed (an API key revoked, a company's address
// allow-list edited), so that every node drops them at once. A cache asks isCurrent() before it serves
// an entry: while a node could be missing notices (its PostgreSQL listener is down), nothing is served
// from memory and every check goes to the database.
//
// The notices travel with the database: SQLite is one node, so they are delivered in the process, and
// a write by another process on the same file (a command-line tool) is seen through SQLite's
// data_version and empties every cache; PostgreSQL delivers them to every node with LISTEN/NOTIFY
// (postgres-change-notices.ts). A Kysely instance opened without notices has none, and caches built
// on it never serve from memory.

import { sql, type Kysely } from "kysely";
import type { DatabaseSchema } from "./schema.ts";

export type ChangeTopic = "api_key" | "tenant";
// One row (topic and key), or everything (a notice may have been missed).
export type ChangeNotice = { topic: ChangeTopic; key: string } | { topic: "all" };
export type ChangeListener = (notice: ChangeNotice) => void;

export type ChangeNotices = {
  /** Tells this node at once and every other node once `executor`'s transaction commits. */
  announce(executor: Kysely<DatabaseSchema>, topic: ChangeTopic, key: string): Promise<void>;
  /** Tells this node only (no other node needs it again). */
  deliverHere(notice: ChangeNotice): void;
  subscribe(listener: ChangeListener): () => void;
  /** False while this node could be missing notices: caches must not serve then. */
  isCurrent(): boolean;
  close(): Promise<void>;
};

export const changeChannel = "strongroom_changes";
const maxKeyLength = 200;

const noticesByDatabase = new WeakMap<Kysely<DatabaseSchema>, ChangeNotices>();

export function attachChangeNotices(db: Kysely<DatabaseSchema>, notices: ChangeNotices): void {
  noticesByDatabase.set(db, notices);
}

export function changeNoticesOf(db: Kysely<DatabaseSchema>): ChangeNotices | undefined {
  return noticesByDatabase.get(db);
}

/**
 * Announces a change of rows a cache may hold. `db` is the opened database (it finds the notices);
 * `executor` is where the write ran, a transaction when there is one, so PostgreSQL sends the notice
 * only if the write commits.
 */
export async function announceChange(db: Kysely<DatabaseSchema>, topic: ChangeTopic, key: string, executor: Kysely<DatabaseSchema> = db): Promise<void> {
  await noticesByDatabase.get(db)?.announce(executor, topic, key);
}

/**
 * Runs a write of rows a cache may hold in a transaction that announces the change, and tells this node
 * again once it has committed: a request here that read the row after the first notice but before the
 * commit may have kept the old row (other nodes get the notice only at the commit).
 */
export async function writeAndAnnounce<T>(db: Kysely<DatabaseSchema>, topic: ChangeTopic, key: string, write: (trx: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> {
  const result = await db.transaction().execute(async (trx) => {
    const written = await write(trx);
    await announceChange(db, topic, key, trx);
    return written;
  });
  noticesByDatabase.get(db)?.deliverHere({ topic, key });
  return result;
}

export function encodeNotice(topic: ChangeTopic, key: string): string {
  return `${topic}:${key}`;
}

export function decodeNotice(payload: string): ChangeNotice {
  const index = payload.indexOf(":");
  const topic = payload.slice(0, index);
  const key = payload.slice(index + 1);
  // Anything not understood empties every cache rather than being ignored.
  if (index > 0 && (topic === "api_key" || topic === "tenant") && key.length > 0 && key.length <= maxKeyLength) return { topic, key };
  return { topic: "all" };
}

export function createListenerSet() {
  const listeners = new Set<ChangeListener>();
  return {
    subscribe(listener: ChangeListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    deliver(notice: ChangeNotice): void {
      for (const listener of listeners) listener(notice);
    },
  };
}

/**
 * Notices for a database only this process writes through (SQLite). `externalWriteCount` reads
 * SQLite's data_version, which moves when another connection commits: then every cache is emptied.
 */
export function createInProcessChangeNotices(externalWriteCount: () => number): ChangeNotices {
  const listeners = createListenerSet();
  let seen = externalWriteCount();
  // Read once per turn of the event loop (a read costs ~5-10 µs, a cached request ~70): what is served
  // in a turn is as of the turn's start, as if those requests had come a moment earlier.
  let checkedThisTurn = false;
  const nextTurn = () => { checkedThisTurn = false; };
  return {
    async announce(_executor, topic, key) {
      listeners.deliver({ topic, key });
    },
    deliverHere: listeners.deliver,
    subscribe: listeners.subscribe,
    isCurrent() {
      if (checkedThisTurn) return true;
      checkedThisTurn = true;
      setImmediate(nextTurn);
      const now = externalWriteCount();
      if (now !== seen) {
        seen = now;
        listeners.deliver({ topic: "all" });
      }
      return true;
    },
    async close() {},
  };
}

export async function notifyPostgres(executor: Kysely<DatabaseSchema>, topic: ChangeTopic, key: string): Promise<void> {
  await sql`select pg_notify(${changeChannel}, ${encodeNotice(topic, key)})`.execute(executor);
}
