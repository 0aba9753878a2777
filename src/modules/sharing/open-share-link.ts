// What a share link opens, checked afresh on every request: the link must exist, be unexpired,
// unrevoked and unlocked, its document present and out of the trash, and its creator still entitled
// to share it. Every failure but a lock gets the same answer, so a link tells nothing of why it died.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import type { ShareRow } from "./present-share.ts";
import { creatorMayStillShare, type DocumentRow } from "./share-policy.ts";
import { isShareToken, shareTokenHash } from "./share-secrets.ts";

export type OpenShareLink = { share: ShareRow; document: DocumentRow };

export async function findShareByToken(db: Kysely<DatabaseSchema>, vault: Vault, token: unknown): Promise<ShareRow | undefined> {
  if (!isShareToken(token)) return undefined;
  return db.selectFrom("document_shares").selectAll().where("token_hash", "=", shareTokenHash(vault, token)).executeTakeFirst();
}

export async function requireOpenShareLink(db: Kysely<DatabaseSchema>, share: ShareRow | undefined): Promise<OpenShareLink> {
  const gone = new AppError("not_found", "this link is not valid: it may have expired or been withdrawn");
  if (!share || share.revoked_at || Date.parse(share.expires_at) <= Date.now()) throw gone;
  const document = await db.selectFrom("documents").selectAll().where("tenant_id", "=", share.tenant_id).where("id", "=", share.document_id).executeTakeFirst();
  if (!document || document.deleted_at || document.current_version === 0) throw gone;
  if (!(await creatorMayStillShare(db, share.created_by, document))) throw gone;
  if (share.locked_at) throw new AppError("pin_locked", "too many wrong PINs: this link is locked; ask the sender for a new one");
  return { share, document };
}
