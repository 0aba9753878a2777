// TOTP (RFC 6238) as authenticator apps expect it: a 160-bit secret, SHA-1, six digits, 30-second
// steps. A code is accepted one step either side of now, and a time step counts once per user: the
// last step used is remembered and a code for it or an earlier step is refused (no replay).
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { Secret, TOTP } from "otpauth";
import type { DatabaseSchema } from "../../store/schema.ts";

const period = 30;
const digits = 6;
const algorithm = "SHA1";
const window = 1;

export function newTotpSecret(): string {
  return new Secret({ buffer: new Uint8Array(randomBytes(20)).buffer }).base32;
}

export function totpUri(secretBase32: string, accountName: string): string {
  return new TOTP({ issuer: "Strongroom", label: accountName, secret: Secret.fromBase32(secretBase32), algorithm, digits, period }).toString();
}

// The time step the code belongs to, or null if it is not a current code for this secret.
export function matchTotpStep(secretBase32: string, code: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = TOTP.validate({ token: code, secret: Secret.fromBase32(secretBase32), algorithm, digits, period, timestamp: now, window });
  return delta === null ? null : TOTP.counter({ period, timestamp: now }) + delta;
}

// Records the step as used; false if it (or a later one) was used already. Atomic under concurrency.
export async function claimTotpStep(db: Kysely<DatabaseSchema>, userId: string, step: number): Promise<boolean> {
  const result = await db.updateTable("users").set({ totp_last_step: step })
    .where("id", "=", userId)
    .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
