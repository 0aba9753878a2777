// Microsoft Entra ID's multi-tenant endpoints publish their issuer as a template,
// https://login.microsoftonline.com/{tenantid}/v2.0, because every tenant's tokens are signed with the
// same keys. A token therefore proves nothing about its tenant unless its `iss` is exactly that
// template filled in with the token's own `tid`: without this check, any Entra tenant could mint a
// token that passes as another's.
import { AppError } from "../../errors/app-error.ts";
import { entraIssuerPattern } from "./oidc-config.ts";

const tenantIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Personal Microsoft accounts all share this tenant; the `organizations` endpoint must never yield one.
export const personalAccountsTenantId = "9188040d-6c67-4c5b-b112-36a304b66dad";

/**
 * The tenant-specific issuer a token from an Entra ID endpoint must carry, given the issuer that is
 * configured (common, organizations or one tenant) and the token's claims. Throws `oidc_failed` when
 * the token's `iss` is not `https://login.microsoftonline.com/<its tid>/v2.0`, when `tid` is not a
 * tenant id, when a single-tenant configuration meets another tenant, or when `organizations` meets
 * a personal account.
 */
export function entraIssuerForToken(configuredIssuer: string, claims: { iss?: unknown; tid?: unknown }): string {
  const refused = new AppError("oidc_failed", "the Microsoft sign-in could not be verified: the token's issuer does not match its tenant");
  const configured = entraIssuerPattern.exec(configuredIssuer);
  if (!configured) throw refused;
  const tid = claims.tid;
  if (typeof tid !== "string" || !tenantIdPattern.test(tid)) throw refused;
  const scope = configured[1]!;
  if (scope !== "common" && scope !== "organizations" && scope !== tid) throw refused;
  if (scope === "organizations" && tid === personalAccountsTenantId) throw refused;
  const expected = `https://login.microsoftonline.com/${tid}/v2.0`;
  if (claims.iss !== expected) throw refused;
  return expected;
}
