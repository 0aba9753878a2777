// The providers' configuration: what is accepted, and what is refused with the setting named.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { oidcConfigSchema } from "./oidc-config.ts";

const google = { id: "google", kind: "google", issuer: "https://accounts.google.com", clientId: "id", clientSecret: "secret" };
const microsoft = { id: "microsoft", kind: "microsoft", issuer: "https://login.microsoftonline.com/common/v2.0", clientId: "id", clientSecret: "secret" };
const corp = { id: "corp", kind: "generic", issuer: "https://id.corp.example/realms/main", clientId: "id", clientSecret: "secret", scopes: "openid email" };
const problems = (input: unknown) => {
  const parsed = oidcConfigSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join("."));
};

describe("oidcConfigSchema", () => {
  it("accepts Google, Microsoft (common, organizations, one tenant) and a generic issuer, with default scopes", () => {
    const parsed = oidcConfigSchema.parse([google, microsoft, corp, { ...microsoft, id: "entra-org", issuer: "https://login.microsoftonline.com/organizations/v2.0" },
      { ...microsoft, id: "entra-one", issuer: "https://login.microsoftonline.com/3f2504e0-4f89-41d3-9a0c-0305e82c3301/v2.0" }]);
    assert.equal(parsed[0]!.scopes, "openid email profile");
    assert.equal(parsed[2]!.scopes, "openid email");
    assert.deepEqual(oidcConfigSchema.parse(undefined), []);
  });

  it("refuses plain HTTP, wrong issuers for Google and Microsoft, bad ids, scopes without openid or email, duplicates, and more than 10", () => {
    assert.deepEqual(problems([{ ...corp, issuer: "http://id.corp.example" }]), ["0.issuer"]);
    assert.deepEqual(problems([{ ...google, issuer: "https://accounts.google.com.evil.example" }]), ["0.issuer"]);
    assert.deepEqual(problems([{ ...microsoft, issuer: "https://login.microsoftonline.com/consumers/v2.0" }]), ["0.issuer"]);
    assert.deepEqual(problems([{ ...microsoft, issuer: "https://login.microsoftonline.com/common/oauth2/v2.0" }]), ["0.issuer"]);
    assert.deepEqual(problems([{ ...corp, id: "Corp/../x" }]), ["0.id"]);
    assert.deepEqual(problems([{ ...corp, scopes: "email profile" }]), ["0.scopes"]);
    assert.deepEqual(problems([{ ...corp, scopes: "openid profile" }]), ["0.scopes"]);
    assert.deepEqual(problems([{ ...corp, scopes: "openid email \"x\"" }]), ["0.scopes"]);
    assert.deepEqual(problems([{ ...corp, clientSecret: "" }]), ["0.clientSecret"]);
    assert.deepEqual(problems([{ ...corp, kind: "facebook" }]), ["0.kind"]);
    assert.deepEqual(problems([corp, { ...corp }]), ["1.id"]);
    assert.deepEqual(problems(Array.from({ length: 11 }, (_, index) => ({ ...corp, id: `corp-${index}` }))), [""]);
  });
});
