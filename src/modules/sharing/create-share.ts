// Shares one document with someone outside the company: an expiring link, and optionally a PIN. The
// link goes to the recipient by e-mail when an address is given; the PIN never travels with it: it goes
// by SMS when a phone number is given, otherwise it is shown once to the sharer to pass on by another
// channel (a call, a message). Neither is stored: only their keyed hashes are.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newPublicId } from "../auth/secret-tokens.ts";
import type { MessageSender } from "../messages/message.ts";
import { newSharePin, newShareToken, sharePinHash, shareTokenHash } from "./share-secrets.ts";
import { recipientContext, type ShareRow } from "./present-share.ts";

export const maxShareDays = 90;
export const maxActiveSharesPerDocument = 50;

export type ShareDeps = { db: Kysely<DatabaseSchema>; vault: Vault; messages: MessageSender; publicUrl: string };

export type NewShare = {
  tenantId: string;
  documentId: string;
  createdBy: string;
  expiresAt: string;
  pin: boolean;
  recipientEmail?: string | undefined;
  recipientPhone?: string | undefined;
};

export type CreatedShare = {
  share: ShareRow;
  url: string;
  /** Only when the PIN was not sent by SMS: shown this once, to be passed on by another channel. */
  pin?: string;
  linkSentTo?: "email";
  pinSentTo?: "sms";
};

export function shareUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/shared#token=${token}`;
}

export async function createShare(deps: ShareDeps, input: NewShare): Promise<CreatedShare> {
  const { db, vault } = deps;
  const now = Date.now();
  const expires = Date.parse(input.expiresAt);
  if (!Number.isFinite(expires) || expires <= now) throw new AppError("validation_failed", "expiresAt must be a time in the future");
  if (expires > now + maxShareDays * 86_400_000) throw new AppError("validation_failed", `a link may last at most ${maxShareDays} days`);
  if (input.recipientPhone && !input.pin) throw new AppError("validation_failed", "recipientPhone receives the PIN: ask for a PIN or leave it out");
  const active = await db.selectFrom("document_shares").select((eb) => eb.fn.countAll<number>().as("count"))
    .where("tenant_id", "=", input.tenantId).where("document_id", "=", input.documentId)
    .where("revoked_at", "is", null).where("expires_at", ">", new Date(now).toISOString()).executeTakeFirstOrThrow();
  if (Number(active.count) >= maxActiveSharesPerDocument) {
    throw new AppError("conflict", `a document may have at most ${maxActiveSharesPerDocument} active links: withdraw one first`);
  }

  const id = newPublicId();
  const token = newShareToken();
  const pin = input.pin ? newSharePin() : undefined;
  const recipient = { ...(input.recipientEmail ? { email: input.recipientEmail } : {}), ...(input.recipientPhone ? { phone: input.recipientPhone } : {}) };
  const share: ShareRow = {
    tenant_id: input.tenantId, id, document_id: input.documentId, token_hash: shareTokenHash(vault, token),
    pin_hash: pin ? sharePinHash(vault, id, pin) : null, pin_attempts: 0, locked_at: null,
    recipient_ciphertext: Object.keys(recipient).length ? await vault.data.sealString(recipientContext(input.tenantId, id), JSON.stringify(recipient)) : null,
    created_by: input.createdBy, created_at: new Date(now).toISOString(), expires_at: new Date(expires).toISOString(),
    revoked_at: null, revoked_by: null, download_count: 0, last_download_at: null,
  };
  await db.insertInto("document_shares").values(share).execute();

  const url = shareUrl(deps.publicUrl, token);
  try {
    if (input.recipientEmail) {
      await deps.messages.send({
        channel: "email", to: input.recipientEmail, purpose: "document_share", subject: "A document has been shared with you",
        text: `A document has been shared with you. Open it with this link until ${share.expires_at}:\n\n${url}\n\n` +
          (pin ? "You will also need a PIN, which reaches you separately.\n" : ""),
      });
    }
    if (pin && input.recipientPhone) {
      await deps.messages.send({ channel: "sms", to: input.recipientPhone, purpose: "document_share_pin", subject: "PIN", text: `Your PIN for the document shared with you is ${pin}` });
    }
  } catch (error) {
    // A link that did not reach its recipient is not left behind.
    await db.deleteFrom("document_shares").where("tenant_id", "=", input.tenantId).where("id", "=", id).execute();
    throw error;
  }
  return {
    share, url,
    ...(pin && !input.recipientPhone ? { pin } : {}),
    ...(input.recipientEmail ? { linkSentTo: "email" as const } : {}),
    ...(pin && input.recipientPhone ? { pinSentTo: "sms" as const } : {}),
  };
}
