// The decisions of automatic blocking (P5), independent of HTTP: count a request against a limit,
// admit or refuse a password check, record a failed or accepted password, strike an address, and ban
// it after too many strikes. Every counter lives in the counter store, so all nodes decide alike.
//
// Guessing against one account is throttled per account AND address: a stranger's failures never use
// up the real user's own budget. Addresses the account has never signed in from also share one budget
// per account, so a crowd of addresses cannot try more than that many passwords; the real user's own
// address (where they signed in before) and a recognised device stay outside it, and a new browser
// there goes through the new-device code as usual.
import type { Logger } from "../../log/logger.ts";
import type { SecurityEvents } from "../monitoring/security-events.ts";
import type { AbuseConfig } from "./abuse-config.ts";
import type { CounterStore } from "./counter-store.ts";

export type WindowLimit = { limit: number; windowSeconds: number };

export type Refusal = {
  reason: "rate_limited" | "banned" | "login_delay" | "account_throttled";
  retryAfterMs: number;
};

export type BanView = { address: string; reason: string; bannedAt: string; expiresAt: string; strikes: number };

export type StrikeReason = "failed_login" | "failed_code" | "invalid_api_key" | "rate_limited";

export type AbuseGuardOptions = {
  store: CounterStore;
  config: AbuseConfig;
  events: SecurityEvents;
  log: Logger;
  /** The user an account key (the e-mail's blind index) belongs to, for events; optional. */
  userIdOfAccount?: (account: string) => Promise<string | undefined>;
};

const banGroup = "ban";
const banListLimit = 1000;
const day = 24 * 3600_000;
const ms = (secondsValue: number) => Math.ceil(secondsValue * 1000);

export function createAbuseGuard(options: AbuseGuardOptions) {
  const { store, config, events, log } = options;

  async function countRequest(key: string, limit: WindowLimit): Promise<Refusal | undefined> {
    const { count, resetInMs } = await store.hit(`rl:${key}`, ms(limit.windowSeconds));
    return count > limit.limit ? { reason: "rate_limited", retryAfterMs: resetInMs } : undefined;
  }

  async function ban(address: string, reason: StrikeReason, strikes: number): Promise<void> {
    // Repeat offenders within a day are banned for longer each time.
    const { count: bans } = await store.hit(`ban-count:${address}`, day);
    const durationMs = Math.min(ms(config.ban.durationSeconds) * 2 ** Math.min(bans - 1, 20), ms(config.ban.maxDurationSeconds));
    const bannedAt = new Date();
    await store.putListed(banGroup, address, JSON.stringify({ reason, strikes, bannedAt: bannedAt.toISOString() }), durationMs);
    // Strikes start again from zero, so an address that resumes after the ban is banned again.
    await store.remove([`strikes:${address}`]);
    log.warn({ event: "address_banned", address, reason, strikes, durationSeconds: Math.round(durationMs / 1000) }, "address banned");
    events.emit({ type: "ban", tenantId: null, ip: address, details: { reason, strikes, durationSeconds: Math.round(durationMs / 1000), bansToday: bans } });
  }

  return {
    config,
    store,

    countRequest,

    async checkBan(address: string): Promise<Refusal | undefined> {
      const banned = await store.getListed(banGroup, address);
      return banned ? { reason: "banned", retryAfterMs: banned.ttlMs } : undefined;
    },

    /** One strike against an address; the strike that reaches the threshold bans it. */
    async strike(address: string, reason: StrikeReason): Promise<void> {
      const { count } = await store.hit(`strikes:${address}`, ms(config.ban.windowSeconds));
      if (count === config.ban.strikes) await ban(address, reason, count);
    },

    /**
     * Before a password is checked: refuses while a progressive delay runs or a budget is spent.
     * The attempt is counted here, before the check, so parallel guesses cannot overrun a budget.
     */
    async admitPasswordCheck(address: string, account: string, recognisedDevice: () => Promise<boolean>): Promise<{ attempt: number } | Refusal> {
      const wait = await store.getFlag(`login-wait:${account}:${address}`);
      if (wait) return { reason: "login_delay", retryAfterMs: wait.ttlMs };
      const own = await store.hit(`login-attempts:${account}:${address}`, ms(config.login.perAccountIp.windowSeconds));
      if (own.count > config.login.perAccountIp.limit) return { reason: "account_throttled", retryAfterMs: own.resetInMs };
      const known = (await store.getFlag(`login-known:${account}:${address}`)) !== undefined || (await recognisedDevice());
      if (!known) {
        const strangers = config.login.perAccountUnknownAddresses;
        const shared = await store.hit(`login-strangers:${account}`, ms(strangers.windowSeconds));
        if (shared.count > strangers.limit) return { reason: "account_throttled", retryAfterMs: shared.resetInMs };
      }
      return { attempt: own.count };
    },

    /** A wrong password (or unknown account): delay, strike, and look for stuffing and bursts. */
    async passwordFailed(address: string, account: string, attempt: number): Promise<void> {
      const { freeFailures, delayBaseMs, delayMaxMs } = config.login;
      if (attempt >= freeFailures) {
        const delay = Math.min(delayBaseMs * 2 ** Math.min(attempt - freeFailures, 30), delayMaxMs);
        await store.setFlag(`login-wait:${account}:${address}`, "1", delay);
      }
      const window = ms(config.detection.windowSeconds);
      const accounts = await store.addDistinct(`failed-accounts:${address}`, account, window, config.detection.stuffingAccounts);
      if (accounts.added && accounts.size === config.detection.stuffingAccounts) {
        log.warn({ event: "credential_stuffing", address, accounts: accounts.size }, "one address is failing to sign in to many accounts");
        events.emit({ type: "credential_stuffing", tenantId: null, ip: address, details: { distinctAccounts: accounts.size, windowSeconds: config.detection.windowSeconds } });
      }
      const addresses = await store.addDistinct(`failed-addresses:${account}`, address, window, config.detection.burstAddresses);
      if (addresses.added && addresses.size === config.detection.burstAddresses) {
        const userId = await options.userIdOfAccount?.(account).catch(() => undefined);
        log.warn({ event: "failed_login_burst", userId, addresses: addresses.size }, "one account is failing to sign in from many addresses");
        events.emit({ type: "failed_login_burst", tenantId: null, ip: address, userId, details: { distinctAddresses: addresses.size, windowSeconds: config.detection.windowSeconds } });
      }
    },

    /** The right password: this address's count starts again, and the address becomes known. */
    async passwordAccepted(address: string, account: string): Promise<void> {
      await store.remove([`login-attempts:${account}:${address}`, `login-wait:${account}:${address}`]);
      await store.setFlag(`login-known:${account}:${address}`, "1", config.login.knownAddressDays * day);
    },

    async listBans(): Promise<{ bans: BanView[]; truncated: boolean }> {
      const entries = await store.listGroup(banGroup, banListLimit + 1);
      const now = Date.now();
      const bans = entries.slice(0, banListLimit).map((entry) => {
        const stored = parseBan(entry.value);
        return { address: entry.id, reason: stored.reason, bannedAt: stored.bannedAt, strikes: stored.strikes, expiresAt: new Date(now + entry.ttlMs).toISOString() };
      });
      return { bans, truncated: entries.length > banListLimit };
    },

    /** Lifts a ban and forgets the strikes behind it; false when the address was not banned. */
    async liftBan(address: string): Promise<boolean> {
      const lifted = await store.removeListed(banGroup, address);
      await store.remove([`strikes:${address}`]);
      return lifted;
    },
  };
}

export type AbuseGuard = ReturnType<typeof createAbuseGuard>;

function parseBan(value: string): { reason: string; bannedAt: string; strikes: number } {
  try {
    const parsed = JSON.parse(value) as { reason?: unknown; bannedAt?: unknown; strikes?: unknown };
    return { reason: String(parsed.reason ?? "unknown"), bannedAt: String(parsed.bannedAt ?? ""), strikes: Number(parsed.strikes ?? 0) };
  } catch {
    return { reason: "unknown", bannedAt: "", strikes: 0 };
  }
}
