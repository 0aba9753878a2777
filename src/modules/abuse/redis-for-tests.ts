// For tests only: whether the machine's Redis answers, and a fresh key prefix per test so tests never
// see each other's counters. Unreachable Redis skips the Redis tests, except in CI, where it fails them.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const testRedisUrl = process.env.STRONGROOM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let availability: Promise<boolean> | undefined;

export async function redisSkipReason(): Promise<string | false> {
  availability ??= probe();
  if (await availability) return false;
  if (process.env.CI === "true") throw new Error(`Redis is unreachable at ${testRedisUrl} and CI=true: the Redis tests must run in CI`);
  return `Redis is unreachable at ${testRedisUrl} (set STRONGROOM_TEST_REDIS_URL)`;
}

export function testKeyPrefix(): string {
  return `strongroom-test:${randomBytes(8).toString("hex")}:`;
}

/** Deletes every key under a test's prefix. */
export async function dropTestKeys(prefix: string): Promise<void> {
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 1, disconnectTimeout: 100 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

async function probe(): Promise<boolean> {
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 0, connectTimeout: 1000, lazyConnect: true, retryStrategy: () => null, disconnectTimeout: 100 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
