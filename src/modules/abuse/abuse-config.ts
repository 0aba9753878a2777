// Configuration of automatic blocking (P5): limits per route class, the sign-in throttle, bans and
// attack detection. Defaults suit one company's office behind one address; tests shrink the windows.
import { z } from "zod";

const seconds = z.coerce.number().positive().max(30 * 24 * 3600);
const count = z.coerce.number().int().min(1).max(1_000_000);

const windowLimit = (limit: number, windowSeconds: number) =>
  z.object({ limit: count.default(limit), windowSeconds: seconds.default(windowSeconds) }).prefault({});

// perIp: requests from one address; perAccount: requests by one signed-in user or one API key.
const classLimits = (perIp: [number, number], perAccount: [number, number]) =>
  z.object({ perIp: windowLimit(...perIp), perAccount: windowLimit(...perAccount) }).prefault({});

export const abuseConfigSchema = z.object({
  limits: z.object({
    login: classLimits([60, 60], [30, 60]),
    code: classLimits([30, 60], [30, 60]),
    pin: classLimits([20, 60], [20, 60]),
    // perAccount is the API policy: each API key's quota of requests per minute.
    api: classLimits([1200, 60], [600, 60]),
    download: classLimits([120, 60], [300, 60]),
    default: classLimits([600, 60], [1200, 60]),
  }).prefault({}),
  login: z.object({
    // Password checks per account from one address; a success starts the count again.
    perAccountIp: windowLimit(10, 900),
    // Password checks per account from addresses it has never signed in from, all together.
    perAccountUnknownAddresses: windowLimit(30, 900),
    // Failures (per account and address) before each further one doubles the wait.
    freeFailures: count.max(100).default(3),
    delayBaseMs: z.coerce.number().int().min(1).max(3_600_000).default(1000),
    delayMaxMs: z.coerce.number().int().min(1).max(3_600_000).default(60_000),
    knownAddressDays: z.coerce.number().positive().max(365).default(90),
  }).prefault({}),
  ban: z.object({
    // Strikes are failed sign-ins, wrong codes, invalid API keys and refusals for going over a limit.
    strikes: count.default(50),
    windowSeconds: seconds.default(600),
    durationSeconds: seconds.default(900),
    // Each further ban of the same address within a day lasts twice as long, up to this.
    maxDurationSeconds: seconds.default(24 * 3600),
  }).prefault({}),
  detection: z.object({
    // One address failing to sign in to this many accounts: credential stuffing.
    stuffingAccounts: count.max(10_000).default(10),
    // One account failing from this many addresses: a failed-login burst.
    burstAddresses: count.max(10_000).default(10),
    windowSeconds: seconds.default(900),
  }).prefault({}),
  store: z.object({
    keyPrefix: z.string().min(1).max(100).regex(/^[A-Za-z0-9:_-]+$/).default("strongroom:abuse:"),
    memoryMaxKeys: count.max(10_000_000).default(200_000),
  }).prefault({}),
}).prefault({});

export type AbuseConfig = z.infer<typeof abuseConfigSchema>;

/** The connection to Redis, as config.redis holds it (src/config/config.ts). */
export const redisConnectionSchema = z.object({
  url: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL"),
  caFile: z.string().optional(),
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
});

export type RedisConnectionConfig = z.infer<typeof redisConnectionSchema>;
