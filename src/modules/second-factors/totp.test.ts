// TOTP against RFC 6238's own test vectors (SHA-1, six-digit tail of the eight-digit values), the ±1
// step window, and the shape of a new secret and its otpauth:// URI.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "otpauth";
import { matchTotpStep, newTotpSecret, totpUri } from "./totp.ts";

// "12345678901234567890" in base32, the RFC's SHA-1 seed.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe("TOTP", () => {
  it("matches the RFC 6238 test vectors at their times", () => {
    const vectors: [number, string][] = [[59, "287082"], [1111111109, "081804"], [1111111111, "050471"], [1234567890, "005924"], [2000000000, "279037"]];
    for (const [seconds, code] of vectors) assert.equal(matchTotpStep(rfcSecret, code, seconds * 1000), Math.floor(seconds / 30), `${seconds}s`);
  });

  it("accepts one step either side and no further", () => {
    const at = 1234567890 * 1000;
    assert.equal(matchTotpStep(rfcSecret, "005924", at + 30_000), 41152263);
    assert.equal(matchTotpStep(rfcSecret, "005924", at - 30_000), 41152263);
    assert.equal(matchTotpStep(rfcSecret, "005924", at + 60_000), null);
    assert.equal(matchTotpStep(rfcSecret, "005924", at - 60_000), null);
  });

  it("refuses anything but six digits", () => {
    for (const code of ["", "5924", "0059245", "00592a", " 005924", "-05924"]) assert.equal(matchTotpStep(rfcSecret, code, 1234567890 * 1000), null, code);
  });

  it("makes 160-bit secrets, each new, and a URI an authenticator app reads", () => {
    const secret = newTotpSecret();
    assert.equal(Secret.fromBase32(secret).bytes.length, 20);
    assert.notEqual(newTotpSecret(), secret);
    const uri = new URL(totpUri(secret, "alice@a.example"));
    assert.equal(uri.protocol, "otpauth:");
    assert.equal(uri.searchParams.get("secret"), secret);
    assert.equal(uri.searchParams.get("issuer"), "Strongroom");
    assert.deepEqual([uri.searchParams.get("algorithm"), uri.searchParams.get("digits"), uri.searchParams.get("period")], ["SHA1", "6", "30"]);
  });
});
