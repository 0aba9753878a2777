// The operators' TOTP: 160-bit secrets, the enrolment URI, the ±1 step window and strict code shape.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { URI } from "otpauth";
import { newTotpSecret, totpCodeAt, totpStepOf, totpUri } from "./operator-totp.ts";

describe("operator TOTP", () => {
  it("makes a fresh 160-bit secret each time and an otpauth:// URI an authenticator app reads", () => {
    const secret = newTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.notEqual(newTotpSecret(), secret);
    const uri = totpUri(secret, "ada");
    assert.match(uri, /^otpauth:\/\/totp\//);
    const parsed = URI.parse(uri);
    assert.equal(parsed.issuer, "Strongroom");
    assert.equal(parsed.secret.base32, secret);
    assert.deepEqual([parsed.digits, (parsed as { period?: number }).period, parsed.algorithm], [6, 30, "SHA1"]);
  });

  it("accepts the current code and one step of drift either way, and names the step", () => {
    const secret = newTotpSecret();
    const now = 1_700_000_015_000;
    const step = Math.floor(now / 30_000);
    assert.equal(totpStepOf(secret, totpCodeAt(secret, now), now), step);
    assert.equal(totpStepOf(secret, totpCodeAt(secret, now - 30_000), now), step - 1);
    assert.equal(totpStepOf(secret, totpCodeAt(secret, now + 30_000), now), step + 1);
    assert.equal(totpStepOf(secret, totpCodeAt(secret, now - 90_000), now), undefined);
    assert.equal(totpStepOf(secret, totpCodeAt(secret, now + 90_000), now), undefined);
  });

  it("refuses another secret's code and anything that is not six digits", () => {
    // Fixed secrets and time, so the check is deterministic (no chance collision between two random secrets).
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const other = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const now = 1_700_000_000_000;
    const code = totpCodeAt(secret, now);
    assert.notEqual(totpStepOf(secret, code, now), undefined);
    assert.equal(totpStepOf(other, code, now), undefined);
    for (const bad of ["", "12345", "1234567", `${code} `, "abcdef", "12 456", "１２３４５６"]) assert.equal(totpStepOf(secret, bad, now), undefined, bad);
  });
});
