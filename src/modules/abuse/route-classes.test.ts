// Route classes and address keys: which limits a request falls under, and what one "address" is.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addressKeyFromInput, addressKeyOf } from "./client-address.ts";
import { classifyRoute } from "./route-classes.ts";

describe("route classes", () => {
  it("puts each route in its class by method and route pattern", () => {
    const cases: [string, string | undefined, boolean, string][] = [
      ["POST", "/v1/auth/login", false, "login"],
      ["POST", "/v1/sys/operator/login", false, "login"],
      ["POST", "/v1/auth/login/code", false, "code"],
      ["POST", "/v1/auth/login/totp", false, "code"],
      ["POST", "/v1/auth/login/passkey/verify", false, "code"],
      ["POST", "/v1/auth/password-reset/complete", false, "code"],
      ["POST", "/v1/invitations/accept", false, "code"],
      ["POST", "/v1/sys/unseal", false, "code"],
      ["POST", "/v1/sign/:linkToken/pin", false, "pin"],
      ["GET", "/v1/sign/:linkToken", true, "pin"],
      ["GET", "/v1/tenants/:tenantId/documents/:documentId/download", false, "download"],
      ["GET", "/v1/tenants/:tenantId/documents/:documentId/versions/:version/content", true, "download"],
      ["POST", "/v1/tenants/:tenantId/documents/:documentId/content", false, "default"],
      ["GET", "/v1/tenants/:tenantId/signature-requests/:requestId/final-pdf", false, "download"],
      ["GET", "/v1/me/export", false, "download"],
      ["POST", "/v1/tenants/:tenantId/export", false, "download"],
      ["POST", "/v1/verify", false, "download"],
      ["GET", "/v1/tenants/:tenantId", true, "api"],
      ["GET", "/v1/tenants/:tenantId", false, "default"],
      ["GET", undefined, false, "default"],
      ["GET", undefined, true, "api"],
      ["GET", "/v1/sys/health", false, "unlimited"],
      ["GET", "/v1/sys/seal-status", true, "unlimited"],
      ["POST", "/v1/sys/seal", false, "default"],
    ];
    for (const [method, url, apiKey, expected] of cases) assert.equal(classifyRoute(method, url, apiKey), expected, `${method} ${url} (api key: ${apiKey})`);
  });
});

describe("address keys", () => {
  it("counts IPv4 addresses one by one and IPv6 addresses by /64", () => {
    assert.equal(addressKeyOf("203.0.113.7"), "203.0.113.7");
    assert.equal(addressKeyOf("::ffff:203.0.113.7"), "203.0.113.7");
    assert.equal(addressKeyOf("2001:db8:0:1::1"), "2001:db8:0:1::/64");
    assert.equal(addressKeyOf("2001:0db8:0000:0001:ffff:ffff:ffff:ffff"), "2001:db8:0:1::/64");
    assert.equal(addressKeyOf("fe80::1%eth0"), "fe80:0:0:0::/64");
    assert.equal(addressKeyOf("::1"), "0:0:0:0::/64");
    assert.equal(addressKeyOf("64:ff9b::192.0.2.1"), "64:ff9b:0:0::/64");
    assert.equal(addressKeyOf("not an address"), undefined);
    assert.equal(addressKeyOf("1:2:3:4:5:6:7:8:9"), undefined);
  });

  it("reads an operator's spelling of a banned address", () => {
    assert.equal(addressKeyFromInput("2001:db8:0:1::/64"), "2001:db8:0:1::/64");
    assert.equal(addressKeyFromInput("2001:db8:0:1:abcd::9"), "2001:db8:0:1::/64");
    assert.equal(addressKeyFromInput("198.51.100.4"), "198.51.100.4");
    assert.equal(addressKeyFromInput("198.51.100.4/64"), undefined);
    assert.equal(addressKeyFromInput("x".repeat(100)), undefined);
  });
});
