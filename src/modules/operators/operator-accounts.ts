// Operator accounts: the people who run the installation, never company users. Created on the server
// (CLI), with a password (argon2id, the users' policy) and a mandatory TOTP secret sealed by the vault.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { checkPasswordPolicy, hashPassword } from "../accounts/passwords.ts";
import { newPublicId } from "../auth/secret-tokens.ts";
import { newTotpSecret, sealTotpSecret, totpUri } from "./operator-totp.ts";

export type OperatorSummary = { id: string; username: string; createdAt: string; disabledAt: string | null };

const usernamePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const maxOperators = 1000;

export function normaliseUsername(raw: string): string {
  const username = raw.trim().toLowerCase();
  if (!usernamePattern.test(username)) {
    throw new AppError("validation_failed", "the username must be 1 to 63 characters: letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return username;
}

// Returns the otpauth:// URI once: it holds the TOTP secret and is never shown again.
export async function addOperator(
  deps: { db: Kysely<DatabaseSchema>; vault: Vault },
  input: { username: string; password: string },
): Promise<{ operator: OperatorSummary; otpauthUri: string }> {
  const username = normaliseUsername(input.username);
  checkPasswordPolicy(input.password);
  deps.vault.requireUnsealed();
  const count = await deps.db.selectFrom("operators").select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirstOrThrow();
  if (Number(count.count) >= maxOperators) throw new AppError("conflict", `an installation may have at most ${maxOperators} operator accounts`);
  if (await deps.db.selectFrom("operators").select("id").where("username", "=", username).executeTakeFirst()) {
    throw new AppError("conflict", `there is already an operator named ${username}`);
  }
  const id = newPublicId();
  const secret = newTotpSecret();
  const createdAt = new Date().toISOString();
  const row = {
    id,
    username,
    password_hash: await hashPassword(input.password),
    totp_secret_ciphertext: await sealTotpSecret(deps.vault, id, secret),
    created_at: createdAt,
    disabled_at: null,
    totp_last_step: null,
  };
  try {
    await deps.db.insertInto("operators").values(row).execute();
  } catch {
    // The unique username: someone added the same name at the same moment.
    throw new AppError("conflict", `there is already an operator named ${username}`);
  }
  return { operator: { id, username, createdAt, disabledAt: null }, otpauthUri: totpUri(secret, username) };
}

export async function listOperators(db: Kysely<DatabaseSchema>): Promise<OperatorSummary[]> {
  const rows = await db.selectFrom("operators").select(["id", "username", "created_at", "disabled_at"]).orderBy("username").limit(maxOperators).execute();
  return rows.map((row) => ({ id: row.id, username: row.username, createdAt: row.created_at, disabledAt: row.disabled_at }));
}

// Disabling also ends the operator's sessions at once.
export async function disableOperator(db: Kysely<DatabaseSchema>, rawUsername: string): Promise<OperatorSummary> {
  const username = normaliseUsername(rawUsername);
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("operators").select(["id", "username", "created_at", "disabled_at"]).where("username", "=", username).executeTakeFirst();
    if (!row) throw new AppError("not_found", `there is no operator named ${username}`);
    const at = new Date().toISOString();
    const disabledAt = row.disabled_at ?? at;
    if (!row.disabled_at) await trx.updateTable("operators").set({ disabled_at: at }).where("id", "=", row.id).execute();
    await trx.updateTable("operator_sessions").set({ revoked_at: at }).where("operator_id", "=", row.id).where("revoked_at", "is", null).execute();
    return { id: row.id, username: row.username, createdAt: row.created_at, disabledAt };
  });
}

// Whether any operator account was ever created (a disabled one counts: disabling the last operator
// must not reopen the operator API to address-only access).
export async function operatorAccountsExist(db: Kysely<DatabaseSchema>): Promise<boolean> {
  const row = await db.selectFrom("operators").select("id").limit(1).executeTakeFirst();
  return row !== undefined;
}
