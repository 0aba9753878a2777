// The counter store for several nodes: Redis (ioredis). Every read-modify-write is one Lua script, so
// nodes never race each other; `rediss://` with the operator's CA encrypts the link (P23). Commands
// time out rather than queue for ever: a store that does not answer makes the guard refuse (fail closed).
import { Redis, type RedisOptions } from "ioredis";
import { AppError } from "../../errors/app-error.ts";
import type { CounterStore, Flag, ListedEntry, WindowCount } from "./counter-store.ts";

export type RedisCounterStoreOptions = {
  url: string;
  /** Every key starts with this, so several installations (or tests) can share one Redis. */
  keyPrefix: string;
  /** PEM: the CA that signed the Redis server's certificate (rediss:// only). */
  ca?: string | Buffer | undefined;
  /** PEM: a client certificate and key, when Redis asks for one. */
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  commandTimeoutMs?: number;
  onConnectionError?: (error: Error) => void;
};

// A fixed window from the first hit; a key somehow left without expiry gets one.
const hitScript = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

const addDistinctScript = `
local added = 0
if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 0 and redis.call('SCARD', KEYS[1]) < tonumber(ARGV[3]) then
  added = redis.call('SADD', KEYS[1], ARGV[2])
end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {redis.call('SCARD', KEYS[1]), added}`;

export function createRedisCounterStore(options: RedisCounterStoreOptions): CounterStore {
  const secure = /^rediss:\/\//i.test(options.url);
  if (!secure && /^redis:\/\//i.test(options.url) && (options.ca || options.cert || options.key)) {
    throw new AppError("config_invalid", "a CA or client certificate for Redis needs a rediss:// URL");
  }
  if (!secure && !/^redis:\/\//i.test(options.url)) throw new AppError("config_invalid", "the Redis URL must start with redis:// or rediss://");
  const host = new URL(options.url).hostname.replace(/^\[|\]$/g, "");
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: 3000,
    disconnectTimeout: 200,
    ...(secure ? {
      tls: {
        minVersion: "TLSv1.2" as const,
        servername: host,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.cert ? { cert: options.cert } : {}),
        ...(options.key ? { key: options.key } : {}),
      },
    } : {}),
  };
  const redis = new Redis(options.url, redisOptions);
  redis.on("error", (error: Error) => options.onConnectionError?.(error));

  const prefix = options.keyPrefix;
  const listedKey = (group: string, id: string) => `${prefix}listed:${group}:${id}`;
  const indexKey = (group: string) => `${prefix}listed-index:${group}`;
  const scriptHashes = new Map<string, string>();

  async function runScript(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    let sha = scriptHashes.get(script);
    if (!sha) {
      sha = String(await redis.script("LOAD", script));
      scriptHashes.set(script, sha);
    }
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      // The server forgot its scripts (restart, failover): load it again once.
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      scriptHashes.delete(script);
      return runScript(script, keys, args);
    }
  }

  return {
    kind: "redis",

    async hit(key: string, windowMs: number): Promise<WindowCount> {
      const [count, ttl] = (await runScript(hitScript, [prefix + key], [Math.max(1, Math.ceil(windowMs))])) as [number, number];
      return { count: Number(count), resetInMs: Number(ttl) };
    },

    async addDistinct(key: string, member: string, windowMs: number, cap: number) {
      const [size, added] = (await runScript(addDistinctScript, [prefix + key], [Math.max(1, Math.ceil(windowMs)), member, cap])) as [number, number];
      return { size: Number(size), added: Number(added) === 1 };
    },

    async setFlag(key: string, value: string, ttlMs: number): Promise<void> {
      await redis.set(prefix + key, value, "PX", Math.max(1, Math.ceil(ttlMs)));
    },

    async getFlag(key: string): Promise<Flag | undefined> {
      return readFlag(prefix + key);
    },

    async putListed(group: string, id: string, value: string, ttlMs: number): Promise<void> {
      const ttl = Math.max(1, Math.ceil(ttlMs));
      const now = Date.now();
      await redis.multi()
        .set(listedKey(group, id), value, "PX", ttl)
        .zadd(indexKey(group), now + ttl, id)
        .zremrangebyscore(indexKey(group), "-inf", now)
        .exec()
        .then(failedStep);
    },

    async getListed(group: string, id: string): Promise<Flag | undefined> {
      return readFlag(listedKey(group, id));
    },

    async listGroup(group: string, limit: number): Promise<ListedEntry[]> {
      await redis.zremrangebyscore(indexKey(group), "-inf", Date.now());
      const ids = await redis.zrange(indexKey(group), "0", String(limit - 1));
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.get(listedKey(group, id)).pttl(listedKey(group, id));
      const results = failedStep(await pipeline.exec());
      const found: ListedEntry[] = [];
      ids.forEach((id, index) => {
        const value = results[index * 2]?.[1];
        const ttl = Number(results[index * 2 + 1]?.[1]);
        if (typeof value === "string" && ttl > 0) found.push({ id, value, ttlMs: ttl });
      });
      return found;
    },

    async removeListed(group: string, id: string): Promise<boolean> {
      const results = failedStep(await redis.multi().del(listedKey(group, id)).zrem(indexKey(group), id).exec());
      return Number(results[0]?.[1]) === 1;
    },

    async remove(keys: string[]): Promise<void> {
      if (keys.length > 0) await redis.del(...keys.map((key) => prefix + key));
    },

    async close(): Promise<void> {
      // quit() lets queued commands finish; disconnect() also stops any pending reconnection.
      if (redis.status === "ready") await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };

  async function readFlag(fullKey: string): Promise<Flag | undefined> {
    const results = failedStep(await redis.multi().get(fullKey).pttl(fullKey).exec());
    const value = results[0]?.[1];
    const ttl = Number(results[1]?.[1]);
    return typeof value === "string" && ttl > 0 ? { value, ttlMs: ttl } : undefined;
  }
}

type StepResults = [error: Error | null, result: unknown][] | null;

// MULTI and pipelines report errors per step instead of rejecting: turn any of them into a rejection.
function failedStep(results: StepResults): [Error | null, unknown][] {
  if (!results) throw new Error("the Redis transaction was discarded");
  const failed = results.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
  return results;
}
