// Operators' mandatory second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s: what every authenticator
// app reads from an otpauth:// URI), a 160-bit secret from the CSPRNG, sealed through the vault under
// the operator's own key owner. Each code is good for one sign-in: the step it belongs to is recorded.
import { randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import type { Vault } from "../../vault/vault.ts";

const issuer = "Strongroom";
const digits = 6;
const periodSeconds = 30;
// One step either side, for clocks that drift.
const driftSteps = 1;

export function newTotpSecret(): string {
  return new Secret({ buffer: Uint8Array.from(randomBytes(20)).buffer }).base32;
}

function totpOf(secretBase32: string, username: string): TOTP {
  return new TOTP({ issuer, label: `operator ${username}`, secret: Secret.fromBase32(secretBase32), algorithm: "SHA1", digits, period: periodSeconds });
}

export function totpUri(secretBase32: string, username: string): string {
  return totpOf(secretBase32, username).toString();
}

// The time step a code belongs to (now ± drift), or undefined when it matches none; constant-time compare.
export function totpStepOf(secretBase32: string, code: string, now = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = totpOf(secretBase32, "");
  const delta = totp.validate({ token: code, timestamp: now, window: driftSteps });
  return delta === null ? undefined : totp.counter({ timestamp: now }) + delta;
}

// What an authenticator app shows at a moment (tests and benchmarks play the app).
export function totpCodeAt(secretBase32: string, timestamp: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secretBase32), algorithm: "SHA1", digits, period: periodSeconds, timestamp });
}

function totpSecretContext(operatorId: string) {
  return { tenantId: `operator:${operatorId}`, objectType: "operator", objectId: operatorId, objectVersion: 1, field: "totp_secret" };
}

export function sealTotpSecret(vault: Vault, operatorId: string, secretBase32: string): Promise<Buffer> {
  return vault.data.sealString(totpSecretContext(operatorId), secretBase32);
}

export function openTotpSecret(vault: Vault, operatorId: string, sealed: Uint8Array): Promise<string> {
  return vault.data.openString(totpSecretContext(operatorId), sealed);
}
