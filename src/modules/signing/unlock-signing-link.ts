// The PIN of a signing link: each attempt is spent before the PIN is compared (atomically, so parallel
// guesses cannot exceed the limit); the fifth wrong PIN locks the link until the sender issues a new
// PIN. The right PIN earns a short-lived signer session.
import { AppError } from "../../errors/app-error.ts";
import { recordEvidence } from "./record-evidence.ts";
import type { SigningDeps } from "./signing-deps.ts";
import type { OpenSigningLink } from "./open-signing-link.ts";
import { newSignerSession, signingPinMatches } from "./signing-secrets.ts";

export const maxPinFailures = 5;

type Meta = { ip: string; userAgent: string | undefined };

export async function unlockSigningLink(deps: SigningDeps, link: OpenSigningLink, pin: string, meta: Meta): Promise<{ session: string; expiresAt: string }> {
  const { db, vault } = deps;
  const { request, recipient } = link;
  const evidence = (event: "pin_ok" | "pin_failed" | "pin_locked") =>
    recordEvidence(deps, { tenantId: request.tenant_id, requestId: request.id, recipientId: recipient.id, event, ip: meta.ip, userAgent: meta.userAgent });
  const locked = new AppError("pin_locked", "too many wrong PINs: this link is locked; ask the sender for a new PIN");
  const thisRecipient = db.updateTable("signature_recipients").where("tenant_id", "=", recipient.tenant_id).where("id", "=", recipient.id);
  const lock = async () => {
    const changed = await thisRecipient.set({ locked_at: new Date().toISOString() }).where("locked_at", "is", null).executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 1) await evidence("pin_locked");
  };
  if (!recipient.pin_hash) throw locked;
  const spent = await thisRecipient.set((eb) => ({ pin_failures: eb("pin_failures", "+", 1) }))
    .where("locked_at", "is", null).where("pin_failures", "<", maxPinFailures).where("pin_hash", "=", recipient.pin_hash)
    .returning("pin_failures").executeTakeFirst();
  if (!spent) {
    await lock();
    throw locked;
  }
  if (signingPinMatches(vault, recipient.id, pin, recipient.pin_hash)) {
    // The right PIN gives back only its own attempt: five wrong ones lock the link.
    await thisRecipient.set((eb) => ({ pin_failures: eb("pin_failures", "-", 1) })).where("pin_failures", ">", 0).execute();
    await evidence("pin_ok");
    return newSignerSession(vault, recipient.id, recipient.pin_hash);
  }
  await evidence("pin_failed");
  const left = maxPinFailures - Number(spent.pin_failures);
  if (left <= 0) {
    await lock();
    throw locked;
  }
  throw new AppError("pin_invalid", `wrong PIN: ${left} ${left === 1 ? "attempt" : "attempts"} left`, { attemptsLeft: left });
}
