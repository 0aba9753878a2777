// Where the abuse guard keeps its counters, flags and bans: in memory for one node, in Redis when
// several nodes must share them. Chosen once at start-up (open-counter-store.ts); nothing else asks.
//
// Windows are FIXED and start at a key's first hit: the first hit sets the expiry, later hits only
// count. That is one atomic step per hit (a Lua script in Redis) and a bounded cost per key; the
// price is that a client can squeeze up to twice a limit around a window's end, which every limit
// here is sized to tolerate.

export type WindowCount = {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  resetInMs: number;
};

export type Flag = { value: string; ttlMs: number };

export type ListedEntry = Flag & { id: string };

export type CounterStore = {
  readonly kind: "memory" | "redis";
  /** Counts one hit, atomically, in the fixed window of `windowMs` that started with the key's first hit. */
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /**
   * Adds a member to a set that lives `windowMs` from its first member; the set holds at most `cap`
   * members (further members are not added). Returns the size and whether this call added the member.
   */
  addDistinct(key: string, member: string, windowMs: number, cap: number): Promise<{ size: number; added: boolean }>;
  /** An expiring flag holding a short value (a progressive-delay wait, a known address). */
  setFlag(key: string, value: string, ttlMs: number): Promise<void>;
  getFlag(key: string): Promise<Flag | undefined>;
  /** Like a flag, and also found by listing its group (bans, for the operator). */
  putListed(group: string, id: string, value: string, ttlMs: number): Promise<void>;
  getListed(group: string, id: string): Promise<Flag | undefined>;
  /** The live entries of a group, soonest to expire first, at most `limit`. */
  listGroup(group: string, limit: number): Promise<ListedEntry[]>;
  /** Removes a listed entry; false if there was none. */
  removeListed(group: string, id: string): Promise<boolean>;
  /** Removes counters, sets or flags. */
  remove(keys: string[]): Promise<void>;
  close(): Promise<void>;
};
