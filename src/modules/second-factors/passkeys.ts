// A user's own passkeys: listed without their keys, deleted by a short id derived from the credential
// id (credential ids can be longer than a path segment allows).
import { createHash } from "node:crypto";
import { AppError } from "../../errors/app-error.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";

export const maxPasskeysPerUser = 20;

export type PasskeyView = { id: string; createdAt: string; lastUsedAt: string | null; transports: string[] };

export function passkeyIdOf(credentialId: string): string {
  return createHash("sha256").update(credentialId).digest("base64url").slice(0, 22);
}

export async function listPasskeys(deps: Pick<IdentityDeps, "db">, userId: string): Promise<PasskeyView[]> {
  const rows = await deps.db.selectFrom("webauthn_credentials").select(["credential_id", "created_at", "last_used_at", "transports"])
    .where("user_id", "=", userId).orderBy("created_at").limit(maxPasskeysPerUser).execute();
  return rows.map((row) => ({ id: passkeyIdOf(row.credential_id), createdAt: row.created_at, lastUsedAt: row.last_used_at, transports: JSON.parse(row.transports) as string[] }));
}

export async function deletePasskey(deps: Pick<IdentityDeps, "db">, userId: string, passkeyId: string): Promise<void> {
  const rows = await deps.db.selectFrom("webauthn_credentials").select("credential_id").where("user_id", "=", userId).limit(maxPasskeysPerUser).execute();
  const match = rows.find((row) => passkeyIdOf(row.credential_id) === passkeyId);
  if (!match) throw new AppError("not_found", "no such passkey");
  await deps.db.deleteFrom("webauthn_credentials").where("user_id", "=", userId).where("credential_id", "=", match.credential_id).execute();
}
