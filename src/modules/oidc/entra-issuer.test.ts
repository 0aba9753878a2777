// The Entra ID issuer rule: a token from a multi-tenant endpoint is good only when its iss is the
// template filled with its own tid; single-tenant and organizations configurations narrow it further.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAppError } from "../../errors/app-error.ts";
import { entraIssuerForToken, personalAccountsTenantId } from "./entra-issuer.ts";

const tenant = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const other = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
const common = "https://login.microsoftonline.com/common/v2.0";
const organizations = "https://login.microsoftonline.com/organizations/v2.0";
const issuerOf = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;
const refusal = (error: unknown) => isAppError(error) && error.code === "oidc_failed";

describe("entraIssuerForToken", () => {
  it("accepts a token whose iss is its own tenant's issuer, and returns that issuer", () => {
    assert.equal(entraIssuerForToken(common, { iss: issuerOf(tenant), tid: tenant }), issuerOf(tenant));
    assert.equal(entraIssuerForToken(organizations, { iss: issuerOf(tenant), tid: tenant }), issuerOf(tenant));
    assert.equal(entraIssuerForToken(issuerOf(tenant), { iss: issuerOf(tenant), tid: tenant }), issuerOf(tenant));
    assert.equal(entraIssuerForToken(common, { iss: issuerOf(personalAccountsTenantId), tid: personalAccountsTenantId }), issuerOf(personalAccountsTenantId));
  });

  it("refuses a token whose iss names another tenant than its tid", () => {
    assert.throws(() => entraIssuerForToken(common, { iss: issuerOf(other), tid: tenant }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: issuerOf(tenant), tid: other }), refusal);
  });

  it("refuses the unfilled template, a missing or malformed tid, and look-alike issuers", () => {
    assert.throws(() => entraIssuerForToken(common, { iss: "https://login.microsoftonline.com/{tenantid}/v2.0", tid: "{tenantid}" }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: issuerOf(tenant) }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: issuerOf(tenant), tid: 42 }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: `${issuerOf(tenant)}/`, tid: tenant }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: `https://login.microsoftonline.com/${tenant.toUpperCase()}/v2.0`, tid: tenant.toUpperCase() }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: `https://sts.windows.net/${tenant}/`, tid: tenant }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: `https://login.microsoftonline.com.evil.example/${tenant}/v2.0`, tid: tenant }), refusal);
    assert.throws(() => entraIssuerForToken(common, { iss: `https://login.microsoftonline.com/x/../${tenant}/v2.0`, tid: `x/../${tenant}` }), refusal);
  });

  it("a single-tenant configuration accepts only its tenant; organizations refuses personal accounts", () => {
    assert.throws(() => entraIssuerForToken(issuerOf(tenant), { iss: issuerOf(other), tid: other }), refusal);
    assert.throws(() => entraIssuerForToken(organizations, { iss: issuerOf(personalAccountsTenantId), tid: personalAccountsTenantId }), refusal);
  });

  it("refuses when the configured issuer is not an Entra ID v2.0 issuer", () => {
    assert.throws(() => entraIssuerForToken("https://accounts.google.com", { iss: issuerOf(tenant), tid: tenant }), refusal);
    assert.throws(() => entraIssuerForToken("https://login.microsoftonline.com/consumers/v2.0", { iss: issuerOf(tenant), tid: tenant }), refusal);
  });
});
