// A user adds a phone number for sign-in codes: an SMS code proves it is theirs (10 minutes, five
// attempts). Until verified, codes keep going to the e-mail address.
import { AppError } from "../../errors/app-error.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { newOneTimeCode, oneTimeCodeHash, oneTimeCodeMatches } from "../auth/secret-tokens.ts";
import { openUserField, sealUserField, userFieldContext } from "./user-fields.ts";

export const phoneCodeMinutes = 10;
export const phoneCodeAttempts = 5;
const e164 = /^\+[1-9][0-9]{7,14}$/;

export async function startPhoneVerification(deps: IdentityDeps, userId: string, phone: string): Promise<void> {
  const normalised = phone.replace(/[\s()-]/g, "");
  if (!e164.test(normalised)) throw new AppError("validation_failed", "give the phone number in international form, e.g. +358401234567");
  const code = newOneTimeCode();
  const now = Date.now();
  const row = {
    user_id: userId,
    phone_ciphertext: await deps.vault.data.sealString({ ...userFieldContext(userId, "phone"), objectType: "phone_verification" }, normalised),
    code_hash: oneTimeCodeHash(deps.vault, `phone:${userId}:${normalised}`, code),
    attempts: 0,
    expires_at: new Date(now + phoneCodeMinutes * 60_000).toISOString(),
    created_at: new Date(now).toISOString(),
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("phone_verifications").where("user_id", "=", userId).execute();
    await trx.insertInto("phone_verifications").values(row).execute();
  });
  await deps.messages.send({
    channel: "sms", to: normalised, purpose: "phone_verification", subject: "Strongroom phone check",
    text: `Your Strongroom phone verification code is ${code}. It is valid for ${phoneCodeMinutes} minutes.`,
  });
}

export async function completePhoneVerification(deps: IdentityDeps, userId: string, code: string): Promise<void> {
  const pending = await deps.db.selectFrom("phone_verifications").selectAll().where("user_id", "=", userId).executeTakeFirst();
  if (!pending || Date.parse(pending.expires_at) <= Date.now()) throw new AppError("code_expired", "no phone check is waiting: add the number again");
  if (pending.attempts >= phoneCodeAttempts) throw new AppError("code_locked", "too many wrong codes: add the number again for a new one");
  const phone = await deps.vault.data.openString({ ...userFieldContext(userId, "phone"), objectType: "phone_verification" }, pending.phone_ciphertext);
  if (!/^\d{6}$/.test(code) || !oneTimeCodeMatches(deps.vault, `phone:${userId}:${phone}`, code, pending.code_hash)) {
    await deps.db.updateTable("phone_verifications").set((eb) => ({ attempts: eb("attempts", "+", 1) })).where("user_id", "=", userId).execute();
    throw new AppError(pending.attempts + 1 >= phoneCodeAttempts ? "code_locked" : "code_invalid", "the code is wrong");
  }
  const at = new Date().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("phone_verifications").where("user_id", "=", userId).execute();
    await trx.updateTable("users").set({ phone_ciphertext: await sealUserField(deps.vault, userId, "phone", phone), phone_verified_at: at, updated_at: at })
      .where("id", "=", userId).execute();
  });
}

export async function removePhone(deps: IdentityDeps, userId: string): Promise<void> {
  const at = new Date().toISOString();
  await deps.db.updateTable("users").set({ phone_ciphertext: null, phone_verified_at: null, updated_at: at }).where("id", "=", userId).execute();
}

export async function verifiedPhoneOf(deps: IdentityDeps, userId: string): Promise<string | null> {
  const user = await deps.db.selectFrom("users").select(["phone_ciphertext", "phone_verified_at"]).where("id", "=", userId).executeTakeFirst();
  if (!user?.phone_ciphertext || !user.phone_verified_at) return null;
  return openUserField(deps.vault, userId, "phone", user.phone_ciphertext);
}
