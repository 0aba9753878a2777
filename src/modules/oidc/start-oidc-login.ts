// The first leg of an OpenID Connect sign-in: records the attempt and builds the provider's
// authorisation URL (authorisation code with PKCE S256, state and nonce).
import * as openid from "openid-client";
import { AppError } from "../../errors/app-error.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { newToken } from "../auth/secret-tokens.ts";
import type { OidcProviderConfig } from "./oidc-config.ts";
import type { OidcDiscovery } from "./oidc-discovery.ts";
import { attemptSecretsOf, createOidcLoginAttempts, isAttemptToken, maxOpenAttemptsPerIp } from "./oidc-login-attempts.ts";

export type StartedOidcLogin = { authorizationUrl: string; binding: string };

export function oidcCallbackUrl(publicUrl: string, providerId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/v1/auth/oidc/${providerId}/callback`;
}

export async function startOidcLogin(
  deps: IdentityDeps,
  discovery: OidcDiscovery,
  provider: OidcProviderConfig,
  input: { tenantHint: string | undefined; ip: string; bindingCookie: string | undefined },
): Promise<StartedOidcLogin> {
  const configuration = await discovery.configurationOf(provider);
  const attempts = createOidcLoginAttempts(deps.db, deps.vault);
  await attempts.deleteOld();
  if ((await attempts.countOpenFrom(input.ip)) >= maxOpenAttemptsPerIp) {
    throw new AppError("too_many_requests", "too many sign-ins are open from this address: finish one or wait ten minutes");
  }

  const state = newToken();
  // A browser with several tabs signing in keeps one binding token, so every tab's callback works.
  const binding = isAttemptToken(input.bindingCookie) ? input.bindingCookie : newToken();
  const { nonce, codeVerifier } = attemptSecretsOf(deps.vault, state, binding);
  await attempts.open({ state, binding, providerId: provider.id, tenantHint: input.tenantHint ?? null, ip: input.ip });

  const authorizationUrl = openid.buildAuthorizationUrl(configuration, {
    redirect_uri: oidcCallbackUrl(deps.publicUrl, provider.id),
    response_type: "code",
    scope: provider.scopes,
    state,
    nonce,
    code_challenge: await openid.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
  });
  return { authorizationUrl: authorizationUrl.href, binding };
}
