// The linking rule: which e-mail address a provider vouches for.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifiedEmailOf } from "./verified-email.ts";

const email = "alice@a.example";

describe("verifiedEmailOf", () => {
  it("takes the e-mail when email_verified is exactly true, for any kind", () => {
    for (const kind of ["google", "microsoft", "generic"] as const) assert.equal(verifiedEmailOf(kind, { email, email_verified: true }), email);
  });

  it("refuses false, a string 'true', a missing flag, or a missing or malformed address", () => {
    for (const kind of ["google", "microsoft", "generic"] as const) {
      assert.equal(verifiedEmailOf(kind, { email, email_verified: false }), undefined);
      assert.equal(verifiedEmailOf(kind, { email, email_verified: "true" }), undefined);
      assert.equal(verifiedEmailOf(kind, { email }), undefined);
      assert.equal(verifiedEmailOf(kind, { email_verified: true }), undefined);
      assert.equal(verifiedEmailOf(kind, { email: "not an address", email_verified: true }), undefined);
      assert.equal(verifiedEmailOf(kind, { email: `${"a".repeat(250)}@a.example`, email_verified: true }), undefined);
      assert.equal(verifiedEmailOf(kind, { email: [email], email_verified: true }), undefined);
    }
  });

  it("Microsoft: an e-mail counts with xms_edov true (domain owner verified), never through preferred_username or upn", () => {
    assert.equal(verifiedEmailOf("microsoft", { email, xms_edov: true }), email);
    assert.equal(verifiedEmailOf("microsoft", { email, xms_edov: false }), undefined);
    assert.equal(verifiedEmailOf("microsoft", { email, xms_edov: "1" }), undefined);
    assert.equal(verifiedEmailOf("microsoft", { preferred_username: email, upn: email, xms_edov: true }), undefined);
    assert.equal(verifiedEmailOf("microsoft", { email, preferred_username: email }), undefined);
  });

  it("xms_edov means nothing from a provider that is not Microsoft", () => {
    assert.equal(verifiedEmailOf("generic", { email, xms_edov: true }), undefined);
    assert.equal(verifiedEmailOf("google", { email, xms_edov: true }), undefined);
  });
});
