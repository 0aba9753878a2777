// Picks the counter store once, from configuration: Redis when one is configured (several nodes must
// share counters and bans), memory otherwise. TLS files are read here, at start-up, and a missing
// file stops the start with a clear message.
import { readFileSync } from "node:fs";
import { AppError } from "../../errors/app-error.ts";
import type { AbuseConfig, RedisConnectionConfig } from "./abuse-config.ts";
import type { CounterStore } from "./counter-store.ts";
import { createMemoryCounterStore } from "./memory-counter-store.ts";

export async function openCounterStore(
  config: AbuseConfig,
  redis: RedisConnectionConfig | undefined,
  onConnectionError?: (error: Error) => void,
): Promise<CounterStore> {
  if (!redis) return createMemoryCounterStore({ maxKeys: config.store.memoryMaxKeys });
  const ca = readPem(redis.caFile, "redis.caFile");
  const cert = readPem(redis.certFile, "redis.certFile");
  const key = readPem(redis.keyFile, "redis.keyFile");
  const { createRedisCounterStore } = await import("./redis-counter-store.ts"); // ioredis only where Redis is used
  return createRedisCounterStore({
    url: redis.url,
    keyPrefix: config.store.keyPrefix,
    ca,
    cert,
    key,
    ...(onConnectionError ? { onConnectionError } : {}),
  });
}

function readPem(file: string | undefined, setting: string): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch {
    throw new AppError("config_invalid", `${setting}: cannot read ${file}`);
  }
}
