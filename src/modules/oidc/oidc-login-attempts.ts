// Sign-ins in flight. The browser holds two random 256-bit values: `state` (in the provider's URL)
// and a binding token (in a __Host- cookie). The database holds only keyed hashes of both. The nonce
// and the PKCE verifier are derived from the two with a vault key, so they are as unpredictable as a
// fresh random value, differ for every attempt, and are never stored: a stolen database or a state
// seen in a URL cannot redeem a code.
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, OidcLoginAttemptsTable } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";

export type OidcLoginAttempt = Selectable<OidcLoginAttemptsTable>;
export type AttemptSecrets = { nonce: string; codeVerifier: string };

export const oidcAttemptMinutes = 10;
// Sign-ins a single address may have open at once: enough for a shared office, not for a flood.
export const maxOpenAttemptsPerIp = 50;
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

export function isAttemptToken(value: string | undefined): value is string {
  return typeof value === "string" && tokenPattern.test(value);
}

export function stateHashOf(vault: Vault, state: string): string {
  return vault.mac("oidc-login", `state:${state}`);
}

export function bindingMatches(vault: Vault, binding: string | undefined, attempt: OidcLoginAttempt): boolean {
  return isAttemptToken(binding) && vault.macMatches("oidc-login", `binding:${binding}`, attempt.binding_hash);
}

// 256-bit HMAC outputs, base64url: 43 characters, a valid PKCE verifier (RFC 7636: 43-128 unreserved).
export function attemptSecretsOf(vault: Vault, state: string, binding: string): AttemptSecrets {
  return {
    nonce: vault.mac("oidc-login", `nonce:${state}:${binding}`),
    codeVerifier: vault.mac("oidc-login", `pkce:${state}:${binding}`),
  };
}

export function createOidcLoginAttempts(db: Kysely<DatabaseSchema>, vault: Vault) {
  return {
    async open(input: { state: string; binding: string; providerId: string; tenantHint: string | null; ip: string }): Promise<void> {
      const now = Date.now();
      await db.insertInto("oidc_login_attempts").values({
        state_hash: stateHashOf(vault, input.state),
        binding_hash: vault.mac("oidc-login", `binding:${input.binding}`),
        provider_id: input.providerId,
        tenant_hint: input.tenantHint,
        ip: input.ip,
        expires_at: new Date(now + oidcAttemptMinutes * 60_000).toISOString(),
        consumed_at: null,
        created_at: new Date(now).toISOString(),
      }).execute();
    },

    async countOpenFrom(ip: string): Promise<number> {
      const row = await db.selectFrom("oidc_login_attempts").select((eb) => eb.fn.countAll<number>().as("count"))
        .where("ip", "=", ip).where("consumed_at", "is", null).where("expires_at", ">", new Date().toISOString()).executeTakeFirstOrThrow();
      return Number(row.count);
    },

    // Takes the attempt a state names, once: a second callback with the same state finds nothing.
    async consume(state: string): Promise<OidcLoginAttempt | undefined> {
      const stateHash = stateHashOf(vault, state);
      const now = new Date().toISOString();
      const taken = await db.updateTable("oidc_login_attempts").set({ consumed_at: now })
        .where("state_hash", "=", stateHash).where("consumed_at", "is", null).where("expires_at", ">", now).executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) return undefined;
      return db.selectFrom("oidc_login_attempts").selectAll().where("state_hash", "=", stateHash).executeTakeFirst();
    },

    // Spent and expired attempts are kept a day (for investigating a burst), then deleted.
    async deleteOld(): Promise<void> {
      await db.deleteFrom("oidc_login_attempts").where("expires_at", "<", new Date(Date.now() - 86_400_000).toISOString()).execute();
    },
  };
}
