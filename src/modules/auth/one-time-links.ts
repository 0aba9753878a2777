// Single-use e-mailed links (password reset, e-mail verification): a token stored only as a keyed
// hash, with an expiry; consuming it is one atomic update, so a link works once.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newToken, tokenHash } from "./secret-tokens.ts";

export type LinkPurpose = "password_reset" | "email_verification";

export async function createOneTimeLink(db: Kysely<DatabaseSchema>, vault: Vault, purpose: LinkPurpose, userId: string, ttlMinutes: number): Promise<string> {
  const token = newToken();
  const now = Date.now();
  await db.insertInto("one_time_links").values({
    token_hash: tokenHash(vault, token),
    purpose,
    user_id: userId,
    expires_at: new Date(now + ttlMinutes * 60_000).toISOString(),
    used_at: null,
    created_at: new Date(now).toISOString(),
  }).execute();
  return token;
}

export async function consumeOneTimeLink(db: Kysely<DatabaseSchema>, vault: Vault, purpose: LinkPurpose, token: string): Promise<string> {
  const hash = tokenHash(vault, token);
  const now = new Date().toISOString();
  const link = await db.selectFrom("one_time_links").select(["user_id", "expires_at", "used_at"])
    .where("token_hash", "=", hash).where("purpose", "=", purpose).executeTakeFirst();
  const invalid = new AppError("link_invalid", "this link is invalid, expired or already used");
  if (!link || link.used_at || link.expires_at <= now) throw invalid;
  const result = await db.updateTable("one_time_links").set({ used_at: now })
    .where("token_hash", "=", hash).where("used_at", "is", null).executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw invalid;
  return link.user_id;
}
