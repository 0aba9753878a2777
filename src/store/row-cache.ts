// A small in-memory cache of rows that authorisation reads on every request (a verified API key, a
// company's gate settings), kept correct by change notices: a notice for a row drops it at once, and
// a row read while a notice arrived is not kept (it may be the old one). Entries also expire after
// maxAgeMs, so a notice lost in some way nobody foresaw costs at most that long. Without notices, or
// while they may be missed, every get reads the database.

import type { Kysely } from "kysely";
import { changeNoticesOf, type ChangeNotice, type ChangeNotices, type ChangeTopic } from "./change-notices.ts";
import type { DatabaseSchema } from "./schema.ts";

export type RowCache<Row> = {
  /** The cached row for `key`, else load() — kept only when it is a row and no notice came meanwhile. */
  get(key: string, load: () => Promise<Row | undefined>): Promise<Row | undefined>;
  /** The cached row when it may be served without a read (no promise, for the per-request path), else undefined: then get(). */
  peek(key: string): Row | undefined;
  /** Replaces a cached row with a newer copy this node just wrote (e.g. a key's last-used time). */
  refresh(key: string, row: Row): void;
  size(): number;
};

export type RowCacheOptions<Row> = {
  topic: ChangeTopic;
  maxEntries: number;
  maxAgeMs: number;
  /** Other notices that concern a cached row, e.g. a company's erasure for its API keys. */
  alsoDroppedBy?: (notice: ChangeNotice & { key: string }, row: Row) => boolean;
  now?: () => number;
};

export function createRowCache<Row>(notices: ChangeNotices | undefined, options: RowCacheOptions<Row>): RowCache<Row> {
  const entries = new Map<string, { row: Row; storedAt: number }>();
  const now = options.now ?? Date.now;
  // Moves on every notice: a load that started before a notice may hold the old row.
  let generation = 0;

  // Subscribed for the database's lifetime: a cache lives as long as the database it was made for.
  notices?.subscribe((notice) => {
    generation++;
    if (notice.topic === "all") {
      entries.clear();
    } else if (notice.topic === options.topic) {
      entries.delete(notice.key);
    }
    if (notice.topic !== "all" && options.alsoDroppedBy) {
      for (const [key, entry] of entries) if (options.alsoDroppedBy(notice, entry.row)) entries.delete(key);
    }
  });

  function store(key: string, row: Row): void {
    entries.delete(key);
    if (entries.size >= options.maxEntries) entries.delete(entries.keys().next().value!);
    entries.set(key, { row, storedAt: now() });
  }

  return {
    peek(key) {
      if (notices === undefined || !notices.isCurrent()) return undefined;
      const entry = entries.get(key);
      return entry && now() - entry.storedAt < options.maxAgeMs ? entry.row : undefined;
    },
    async get(key, load) {
      const serving = notices !== undefined && notices.isCurrent();
      if (serving) {
        const entry = entries.get(key);
        if (entry && now() - entry.storedAt < options.maxAgeMs) return entry.row;
        if (entry) entries.delete(key);
      }
      const started = generation;
      const row = await load();
      if (serving && row !== undefined && generation === started && notices.isCurrent()) store(key, row);
      return row;
    },
    refresh(key, row) {
      if (entries.has(key)) entries.set(key, { row, storedAt: entries.get(key)!.storedAt });
    },
    size: () => entries.size,
  };
}

/** One cache per opened database, made on first use with that database's change notices. */
export function rowCachePerDatabase<Row>(options: RowCacheOptions<Row>): (db: Kysely<DatabaseSchema>) => RowCache<Row> {
  const caches = new WeakMap<Kysely<DatabaseSchema>, RowCache<Row>>();
  return (db) => {
    let cache = caches.get(db);
    if (!cache) {
      cache = createRowCache<Row>(changeNoticesOf(db), options);
      caches.set(db, cache);
    }
    return cache;
  };
}
