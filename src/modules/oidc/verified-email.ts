// Which e-mail address a provider vouches for. A first OIDC sign-in links to an existing account only
// through an address the provider says it verified, so one never links on an address that anybody
// could have typed into their profile.
//
// The rule:
// - Any provider: `email` when `email_verified` is exactly `true` (Google always sends it).
// - Microsoft Entra ID never sends `email_verified`, and its `email` claim is an attribute that any
//   tenant's administrator can set to any address (the "nOAuth" flaw). So for kind "microsoft" an
//   `email` without `email_verified: true` counts only with `xms_edov: true`, the optional claim by
//   which Entra states that the tenant has proved it owns the address's domain (add `xms_edov` to the
//   app registration's ID token optional claims). `preferred_username` (the UPN, or anything for
//   guests) and `upn` are never used.
// Everything else (a missing claim, "true" as a string, a generic provider's `xms_edov`) is unverified.
import type { OidcProviderKind } from "./oidc-config.ts";

const maxEmailLength = 254;
const plausibleEmail = /^[^@\s]+@[^@\s]+$/;

export function verifiedEmailOf(kind: OidcProviderKind, claims: Record<string, unknown>): string | undefined {
  const email = claims.email;
  if (typeof email !== "string" || email.length > maxEmailLength || !plausibleEmail.test(email)) return undefined;
  if (claims.email_verified === true) return email;
  if (kind === "microsoft" && claims.xms_edov === true) return email;
  return undefined;
}
