// The PIN of a share link: each attempt is spent before the PIN is compared (atomically, so parallel
// guesses cannot exceed the limit); the fifth wrong PIN over the link's life locks it for good. The
// right PIN earns a short-lived download grant.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import type { ShareRow } from "./present-share.ts";
import { newDownloadGrant, sharePinMatches } from "./share-secrets.ts";

export const maxPinAttempts = 5;

export async function unlockShare(db: Kysely<DatabaseSchema>, vault: Vault, share: ShareRow, pin: string): Promise<{ grant: string; expiresAt: string }> {
  if (!share.pin_hash) throw new AppError("conflict", "this link needs no PIN");
  const locked = new AppError("pin_locked", "too many wrong PINs: this link is locked; ask the sender for a new one");
  const thisShare = db.updateTable("document_shares").where("tenant_id", "=", share.tenant_id).where("id", "=", share.id);
  const spent = await thisShare.set((eb) => ({ pin_attempts: eb("pin_attempts", "+", 1) }))
    .where("locked_at", "is", null).where("pin_attempts", "<", maxPinAttempts).returning("pin_attempts").executeTakeFirst();
  if (!spent) {
    await thisShare.set({ locked_at: new Date().toISOString() }).where("locked_at", "is", null).execute();
    throw locked;
  }
  // The right PIN gives back only its own attempt: five wrong ones over the link's life lock it.
  if (sharePinMatches(vault, share.id, pin, share.pin_hash)) {
    await thisShare.set((eb) => ({ pin_attempts: eb("pin_attempts", "-", 1) })).where("pin_attempts", ">", 0).execute();
    return newDownloadGrant(vault, share.id);
  }
  const left = maxPinAttempts - Number(spent.pin_attempts);
  if (left <= 0) {
    await thisShare.set({ locked_at: new Date().toISOString() }).where("locked_at", "is", null).execute();
    throw locked;
  }
  throw new AppError("pin_invalid", `wrong PIN: ${left} ${left === 1 ? "attempt" : "attempts"} left`, { attemptsLeft: left });
}
