// Recovery codes: ten single-use codes made when TOTP is turned on, shown once, stored only as keyed
// hashes bound to the user. 28 characters of a 32-symbol alphabet (140 bits) in groups of four.
import { randomInt } from "node:crypto";
import type { IdentityDeps } from "../auth/identity-deps.ts";

export const recoveryCodeCount = 10;
// Crockford's base32: no i, l, o or u, so what is read aloud or copied by hand is typed back right.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
const codeLength = 28;

export function newRecoveryCode(): string {
  let code = "";
  for (let index = 0; index < codeLength; index++) code += alphabet[randomInt(0, alphabet.length)];
  return code.match(/.{4}/g)!.join("-");
}

export function normaliseRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, "").replace(/[il]/g, "1").replace(/o/g, "0");
}

function recoveryCodeHash(deps: Pick<IdentityDeps, "vault">, userId: string, code: string): string {
  return deps.vault.mac("recovery-code", `${userId}:${normaliseRecoveryCode(code)}`);
}

// A fresh set; every earlier code stops working.
export async function replaceRecoveryCodes(deps: Pick<IdentityDeps, "db" | "vault">, userId: string): Promise<string[]> {
  const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode);
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
    await trx.insertInto("recovery_codes").values(codes.map((code) => ({ user_id: userId, code_hash: recoveryCodeHash(deps, userId, code), used_at: null }))).execute();
  });
  return codes;
}

// Marks the code used if it is one of the user's unused codes; true only for the first use.
export async function useRecoveryCode(deps: Pick<IdentityDeps, "db" | "vault">, userId: string, code: string): Promise<boolean> {
  const normalised = normaliseRecoveryCode(code);
  if (normalised.length !== codeLength || ![...normalised].every((symbol) => alphabet.includes(symbol))) return false;
  const result = await deps.db.updateTable("recovery_codes").set({ used_at: new Date().toISOString() })
    .where("user_id", "=", userId).where("code_hash", "=", recoveryCodeHash(deps, userId, normalised)).where("used_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(deps: Pick<IdentityDeps, "db">, userId: string): Promise<number> {
  const row = await deps.db.selectFrom("recovery_codes").select((eb) => eb.fn.countAll<number>().as("count"))
    .where("user_id", "=", userId).where("used_at", "is", null).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function deleteRecoveryCodes(deps: Pick<IdentityDeps, "db">, userId: string): Promise<void> {
  await deps.db.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
}
