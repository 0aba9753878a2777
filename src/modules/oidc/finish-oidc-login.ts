// The second leg of an OpenID Connect sign-in, at the callback: takes the attempt (once, in the
// browser that started it), redeems the code with PKCE, lets openid-client verify the ID token
// (signature, issuer, audience, expiry, nonce), finds or links the user, and opens a session whose
// second factor is the provider's sign-in. A new browser is registered without a further code.
import * as openid from "openid-client";
import { AppError } from "../../errors/app-error.ts";
import { openUserField } from "../accounts/user-fields.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import type { ClientInfo } from "../auth/log-in.ts";
import type { SessionRow } from "../auth/sessions.ts";
import { entraIssuerForToken } from "./entra-issuer.ts";
import type { OidcProviderConfig } from "./oidc-config.ts";
import { reasonOf, type OidcDiscovery, type OidcLog } from "./oidc-discovery.ts";
import { attemptSecretsOf, bindingMatches, createOidcLoginAttempts, isAttemptToken } from "./oidc-login-attempts.ts";
import { findOidcUser, linkOidcIdentity, oidcCompaniesOf, type OidcIdentity } from "./oidc-user.ts";
import { oidcCallbackUrl } from "./start-oidc-login.ts";

export type FinishedOidcLogin = { token: string; session: SessionRow; deviceId: string; newDevice: boolean };

export async function finishOidcLogin(
  deps: IdentityDeps,
  discovery: OidcDiscovery,
  provider: OidcProviderConfig,
  callback: { rawQuery: string; bindingCookie: string | undefined },
  client: ClientInfo,
  log: OidcLog,
): Promise<FinishedOidcLogin> {
  const params = new URLSearchParams(callback.rawQuery);
  const state = params.get("state") ?? undefined;
  const stateInvalid = new AppError("oidc_state_invalid", "this sign-in has expired, was already used, or was started in another browser: start again");
  if (!isAttemptToken(state)) throw stateInvalid;
  const attempt = await createOidcLoginAttempts(deps.db, deps.vault).consume(state);
  const binding = callback.bindingCookie;
  if (!attempt || attempt.provider_id !== provider.id || !isAttemptToken(binding) || !bindingMatches(deps.vault, binding, attempt)) throw stateInvalid;

  if (params.has("error")) {
    log.warn({ event: "oidc_refused_by_provider", provider: provider.id, reason: String(params.get("error")).replace(/[^\w.-]/g, "").slice(0, 60) }, "the OIDC provider did not sign the person in");
    throw new AppError("oidc_failed", "the sign-in provider did not sign you in");
  }

  const claims = await redeemCode(deps, discovery, provider, params, attemptSecretsOf(deps.vault, state, binding), state, log);
  const identity: OidcIdentity = {
    issuer: provider.kind === "microsoft" ? entraIssuerForToken(provider.issuer, claims) : String(claims.iss),
    subject: String(claims.sub),
  };
  if (identity.subject.length === 0 || identity.subject.length > 255 || identity.issuer.length > 512) {
    throw new AppError("oidc_failed", "the sign-in provider's answer could not be verified");
  }

  const { user, linked } = await findOidcUser(deps.db, deps.vault, provider, identity, claims);
  if (user.status !== "active") throw new AppError("account_suspended", "this account is disabled");
  const companies = await oidcCompaniesOf(deps.db, user.id);
  const tenantId = attempt.tenant_hint ?? companies[0];
  if (!tenantId || !companies.includes(tenantId)) {
    throw new AppError("oidc_not_allowed", "your company does not allow signing in with an identity provider: sign in with your password");
  }
  if (!linked) await linkOidcIdentity(deps.db, identity, user.id);

  let device = await deps.devices.recognise(user.id, client.deviceCookie);
  const newDevice = !device;
  if (!device) {
    // The notice goes out before anything is recorded: if it cannot be sent, nothing is half-done.
    await deps.messages.send({
      channel: "email", to: await openUserField(deps.vault, user.id, "email", user.email_ciphertext), purpose: "new_sign_in",
      subject: "New sign-in to your Strongroom account",
      text: `Your account was signed in through ${provider.id} from a new device (${client.userAgent.slice(0, 120)}, address ${client.ip}) at ${new Date().toISOString()}. ` +
        "If this was not you, secure your account with that provider and revoke the session in your account settings.",
    });
    device = await deps.devices.register(user.id, client.userAgent);
  }
  const created = await deps.sessions.create({
    userId: user.id, tenantId, deviceId: device.id, secondFactor: "oidc", ip: client.ip, userAgent: client.userAgent,
  });
  return { ...created, deviceId: device.id, newDevice };
}

// Redeems the code and returns the verified ID token's claims. Whatever goes wrong, the person sees
// one message and the operator's log says why, never with the code, tokens or state.
async function redeemCode(
  deps: IdentityDeps,
  discovery: OidcDiscovery,
  provider: OidcProviderConfig,
  params: URLSearchParams,
  secrets: { nonce: string; codeVerifier: string },
  state: string,
  log: OidcLog,
): Promise<Record<string, unknown>> {
  const configuration = await discovery.configurationOf(provider);
  const currentUrl = new URL(oidcCallbackUrl(deps.publicUrl, provider.id));
  currentUrl.search = params.toString();
  try {
    const tokens = await openid.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: secrets.codeVerifier,
      expectedNonce: secrets.nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error("no ID token");
    return claims as Record<string, unknown>;
  } catch (error) {
    log.warn({ event: "oidc_verification_failed", provider: provider.id, reason: reasonOf(error) }, "an OIDC sign-in could not be verified");
    throw new AppError("oidc_failed", "the sign-in provider's answer could not be verified: start again");
  }
}
