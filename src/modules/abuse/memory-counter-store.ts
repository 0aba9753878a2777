// The counter store for a single node: plain maps with expiry times. Memory is bounded: expired
// entries are swept every few seconds, and when the map is still full the oldest counters go first
// (a flood of new addresses can only make the node forget old counters early, never grow without end).
import type { CounterStore, Flag, ListedEntry, WindowCount } from "./counter-store.ts";

type Entry =
  | { kind: "count"; count: number; expiresAt: number }
  | { kind: "set"; members: Set<string>; expiresAt: number }
  | { kind: "flag"; value: string; expiresAt: number };

type Listed = { value: string; expiresAt: number };

export type MemoryCounterStoreOptions = {
  /** Most counters, sets and flags kept at once; the same bound applies to each listed group. */
  maxKeys?: number;
  sweepEveryMs?: number;
  now?: () => number;
};

export function createMemoryCounterStore(options: MemoryCounterStoreOptions = {}): CounterStore {
  const maxKeys = options.maxKeys ?? 200_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const groups = new Map<string, Map<string, Listed>>();

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function sweep(): void {
    const at = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= at) entries.delete(key);
    for (const group of groups.values()) for (const [id, listed] of group) if (listed.expiresAt <= at) group.delete(id);
  }

  function makeRoom(map: Map<string, unknown>): void {
    if (map.size < maxKeys) return;
    sweep();
    // Still full: forget the oldest tenth (Map iterates in insertion order).
    const excess = map.size - Math.floor(maxKeys * 0.9);
    let dropped = 0;
    for (const key of map.keys()) {
      if (dropped++ >= excess) break;
      map.delete(key);
    }
  }

  function store(key: string, entry: Entry): void {
    if (!entries.has(key)) makeRoom(entries);
    entries.set(key, entry);
  }

  function liveListed(group: string, id: string): Listed | undefined {
    const listed = groups.get(group)?.get(id);
    if (listed && listed.expiresAt <= now()) {
      groups.get(group)?.delete(id);
      return undefined;
    }
    return listed;
  }

  const timer = setInterval(sweep, options.sweepEveryMs ?? 10_000);
  timer.unref();

  return {
    kind: "memory",

    async hit(key: string, windowMs: number): Promise<WindowCount> {
      const entry = live(key);
      if (entry?.kind === "count") {
        entry.count += 1;
        return { count: entry.count, resetInMs: entry.expiresAt - now() };
      }
      const expiresAt = now() + windowMs;
      store(key, { kind: "count", count: 1, expiresAt });
      return { count: 1, resetInMs: windowMs };
    },

    async addDistinct(key: string, member: string, windowMs: number, cap: number) {
      let entry = live(key);
      if (entry?.kind !== "set") {
        entry = { kind: "set", members: new Set(), expiresAt: now() + windowMs };
        store(key, entry);
      }
      const added = !entry.members.has(member) && entry.members.size < cap;
      if (added) entry.members.add(member);
      return { size: entry.members.size, added };
    },

    async setFlag(key: string, value: string, ttlMs: number): Promise<void> {
      store(key, { kind: "flag", value, expiresAt: now() + ttlMs });
    },

    async getFlag(key: string): Promise<Flag | undefined> {
      const entry = live(key);
      return entry?.kind === "flag" ? { value: entry.value, ttlMs: entry.expiresAt - now() } : undefined;
    },

    async putListed(group: string, id: string, value: string, ttlMs: number): Promise<void> {
      let listed = groups.get(group);
      if (!listed) groups.set(group, (listed = new Map()));
      if (!listed.has(id)) makeRoom(listed);
      listed.delete(id);
      listed.set(id, { value, expiresAt: now() + ttlMs });
    },

    async getListed(group: string, id: string): Promise<Flag | undefined> {
      const listed = liveListed(group, id);
      return listed ? { value: listed.value, ttlMs: listed.expiresAt - now() } : undefined;
    },

    async listGroup(group: string, limit: number): Promise<ListedEntry[]> {
      const at = now();
      const found: ListedEntry[] = [];
      for (const [id, listed] of groups.get(group) ?? []) {
        if (listed.expiresAt > at) found.push({ id, value: listed.value, ttlMs: listed.expiresAt - at });
      }
      return found.sort((a, b) => a.ttlMs - b.ttlMs).slice(0, limit);
    },

    async removeListed(group: string, id: string): Promise<boolean> {
      const existed = liveListed(group, id) !== undefined;
      groups.get(group)?.delete(id);
      return existed;
    },

    async remove(keys: string[]): Promise<void> {
      for (const key of keys) entries.delete(key);
    },

    async close(): Promise<void> {
      clearInterval(timer);
      entries.clear();
      groups.clear();
    },
  };
}
