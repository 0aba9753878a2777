// Each configured provider's metadata and client settings, discovered once over HTTPS (with TLS
// verification) from its issuer and kept; a failed discovery is retried on the next sign-in.
import * as openid from "openid-client";
import { AppError } from "../../errors/app-error.ts";
import type { OidcProviderConfig } from "./oidc-config.ts";

export type OidcDiscoveryOptions = {
  /**
   * Replaces fetch for every request to the providers. Production leaves it unset (Node's fetch with
   * the system CAs); tests pass one that trusts their own provider's CA.
   */
  fetch?: openid.CustomFetch;
  timeoutSeconds?: number;
};

/** Where operators read why a provider failed (the request's or the app's logger). */
export type OidcLog = { warn(object: Record<string, unknown>, message: string): void };

export type OidcDiscovery = ReturnType<typeof createOidcDiscovery>;

export function createOidcDiscovery(providers: readonly OidcProviderConfig[], log: OidcLog, options: OidcDiscoveryOptions = {}) {
  const byId = new Map(providers.map((provider) => [provider.id, provider]));
  const configurations = new Map<string, Promise<openid.Configuration>>();

  async function discover(provider: OidcProviderConfig): Promise<openid.Configuration> {
    const discoveryOptions: openid.DiscoveryRequestOptions = { timeout: options.timeoutSeconds ?? 10 };
    if (options.fetch) discoveryOptions[openid.customFetch] = options.fetch;
    try {
      return await openid.discovery(new URL(provider.issuer), provider.clientId, undefined, openid.ClientSecretPost(provider.clientSecret), discoveryOptions);
    } catch (error) {
      log.warn({ event: "oidc_discovery_failed", provider: provider.id, reason: reasonOf(error) }, "OIDC provider discovery failed");
      throw new AppError("oidc_provider_unavailable", `the sign-in provider "${provider.id}" cannot be reached just now: try again later`);
    }
  }

  return {
    provider(id: string): OidcProviderConfig | undefined {
      return byId.get(id);
    },

    list(): OidcProviderConfig[] {
      return [...byId.values()];
    },

    configurationOf(provider: OidcProviderConfig): Promise<openid.Configuration> {
      let pending = configurations.get(provider.id);
      if (!pending) {
        pending = discover(provider);
        configurations.set(provider.id, pending);
        pending.catch(() => configurations.delete(provider.id));
      }
      return pending;
    },
  };
}

// A short, secret-free description of why a provider call failed, for operators' logs. openid-client's
// own messages are fixed texts; a provider's error_description is its own text and is left out.
export function reasonOf(error: unknown): string {
  if (error instanceof openid.ResponseBodyError) return `provider answered ${error.status} ${String(error.error).replace(/[^\w.-]/g, "").slice(0, 60)}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const claim = claimNameIn(error);
    return `${error.name}${typeof code === "string" ? ` ${code}` : ""}: ${error.message}${claim ? ` (claim "${claim}")` : ""}`.slice(0, 300);
  }
  return "unknown error";
}

// openid-client names the ID token claim that failed a comparison (nonce, iss, aud…) in the error's
// causes; only that name is taken, never the values beside it.
function claimNameIn(error: unknown): string | undefined {
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause && typeof cause === "object"; depth++) {
    const claim = (cause as { claim?: unknown }).claim;
    if (typeof claim === "string" && /^[a-z_]{1,32}$/.test(claim)) return claim;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
