// Proves the webhook URL rules: https only, no credentials, nothing inside the installation's network
// (at save time for literal addresses, at connection time for names), and loopback only in test mode.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAppError } from "../../errors/app-error.ts";
import { alertEmailOf, alertPayloadOf } from "./alert-payload.ts";
import { webhookSignature } from "./webhook-signature.ts";
import { externalOnlyLookup, isInternalAddress, parseWebhookUrl } from "./webhook-target.ts";

const refused = (text: string, policy = {}) =>
  assert.throws(() => parseWebhookUrl(text, policy), (error: unknown) => isAppError(error) && error.code === "validation_failed", text);

describe("webhook URLs", () => {
  it("accepts public https URLs", () => {
    assert.equal(parseWebhookUrl("https://alerts.example.com/hooks/strongroom?x=1").hostname, "alerts.example.com");
    assert.equal(parseWebhookUrl("https://93.184.216.34:8443/h").port, "8443");
  });

  it("refuses http, credentials, fragments, junk and overlong URLs", () => {
    refused("http://alerts.example.com/h");
    refused("ftp://alerts.example.com/h");
    refused("https://user:pw@alerts.example.com/h");
    refused("https://alerts.example.com/h#frag");
    refused("not a url");
    refused(`https://alerts.example.com/${"a".repeat(2100)}`);
  });

  it("refuses addresses inside the network, including loopback unless the test-only option is set", () => {
    for (const url of ["https://127.0.0.1/h", "https://10.1.2.3/h", "https://192.168.0.1/h", "https://172.20.0.1/h", "https://169.254.169.254/latest",
      "https://[::1]/h", "https://[fd00::1]/h", "https://[::ffff:127.0.0.1]/h", "https://0.0.0.0/h", "https://localhost/h", "https://db.internal/h"]) refused(url);
    refused("http://127.0.0.1:9/h");
    assert.equal(parseWebhookUrl("http://127.0.0.1:9/h", { allowLoopback: true }).protocol, "http:");
    assert.equal(parseWebhookUrl("https://127.0.0.1:9/h", { allowLoopback: true }).hostname, "127.0.0.1");
    refused("http://10.0.0.1/h", { allowLoopback: true });
    refused("https://10.0.0.1/h", { allowLoopback: true });
    assert.equal(isInternalAddress("8.8.8.8"), false);
    assert.equal(isInternalAddress("2606:4700::1111"), false);
  });

  it("refuses at connection time a name that resolves inside the network", async () => {
    const lookup = externalOnlyLookup();
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup("localhost", {}, (failure) => resolve(failure)));
    assert.equal(error?.code, "EADDRINTERNAL");
  });
});

describe("alert payloads", () => {
  it("drop details whose names mark secrets, cap lengths and keep ids", () => {
    const payload = alertPayloadOf("e1", {
      type: "ban", at: "2025-01-01T00:00:00.000Z", tenantId: "t1", ip: "203.0.113.1",
      details: { scope: "ip", password: "hunter2", token: "abc", apiSecret: "s", long: "x".repeat(500), count: 3 },
    });
    assert.deepEqual(Object.keys(payload.details).sort(), ["count", "long", "scope"]);
    assert.equal((payload.details.long as string).length, 200);
    assert.equal(payload.userId, null);
    const email = alertEmailOf(payload);
    assert.match(email.subject, /banned/);
    assert.doesNotMatch(email.text, /hunter2/);
  });

  it("are signed with HMAC-SHA256 over t.body, as documented", () => {
    // Reference value computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
    assert.equal(webhookSignature("whsec_test", 1700000000, '{"a":1}'), "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
  });
});
