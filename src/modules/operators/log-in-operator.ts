// Operator sign-in: username, password and the current TOTP code, all three every time. Every failure
// (unknown name, wrong password, wrong, stale or replayed code, disabled account) gets the same answer.
import { AppError } from "../../errors/app-error.ts";
import { hashPassword, needsRehash, verifyPassword } from "../accounts/passwords.ts";
import { normaliseUsername } from "./operator-accounts.ts";
import type { OperatorDeps } from "./operator-deps.ts";
import type { OperatorSessionRow } from "./operator-sessions.ts";
import { openTotpSecret, totpStepOf } from "./operator-totp.ts";

export type OperatorCredentials = { username: string; password: string; code: string };
export type OperatorSignIn = { token: string; session: OperatorSessionRow; operator: { id: string; username: string; createdAt: string } };

export async function logInOperator(deps: OperatorDeps, input: OperatorCredentials, client: { ip: string; userAgent: string }): Promise<OperatorSignIn> {
  // A sealed node can open no TOTP secret: say so at once, for every name alike.
  deps.vault.requireUnsealed();
  const refused = new AppError("invalid_credentials", "the username, password or code is wrong");
  const username = usernameOrUndefined(input.username);
  const row = username ? await deps.db.selectFrom("operators").selectAll().where("username", "=", username).executeTakeFirst() : undefined;
  // Hashes a decoy for an unknown name, so the answer takes as long as for a real one.
  const passwordMatches = await verifyPassword(row?.password_hash ?? null, input.password);
  if (!row || !passwordMatches || row.disabled_at) throw refused;

  const secret = await openTotpSecret(deps.vault, row.id, row.totp_secret_ciphertext);
  const step = totpStepOf(secret, input.code.trim());
  if (step === undefined) throw refused;
  // A code is spent by its time step, atomically: a replay, or a race of two sign-ins with one code, loses.
  const spent = await deps.db.updateTable("operators").set({ totp_last_step: step }).where("id", "=", row.id)
    .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)])).executeTakeFirst();
  if (Number(spent.numUpdatedRows) !== 1) throw refused;

  if (needsRehash(row.password_hash)) {
    await deps.db.updateTable("operators").set({ password_hash: await hashPassword(input.password) }).where("id", "=", row.id).execute();
  }
  const created = await deps.sessions.create({ operatorId: row.id, ip: client.ip, userAgent: client.userAgent });
  return { ...created, operator: { id: row.id, username: row.username, createdAt: row.created_at } };
}

function usernameOrUndefined(raw: string): string | undefined {
  try {
    return normaliseUsername(raw);
  } catch {
    return undefined;
  }
}
