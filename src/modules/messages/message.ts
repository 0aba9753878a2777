// What the rest of the code sends: one message shape for e-mail and SMS, and one sender that delivers it.
// Messages carry sign-in codes and links, so their text is never logged and is sealed when stored.
import { z } from "zod";

export type MessageChannel = "email" | "sms";

export type Message = {
  channel: MessageChannel;
  to: string;
  subject: string;
  text: string;
  /** Why it is sent, e.g. "device_code", "invitation", "password_reset", "new_sign_in". */
  purpose: string;
  /** E-mail only (e.g. a signed PDF); at most maxAttachmentBytes in all. Not kept by the dev outbox. */
  attachments?: MessageAttachment[];
};

export type MessageAttachment = { filename: string; contentType: string; content: Buffer };

export const maxAttachmentBytes = 10 * 1024 * 1024;

export function attachmentBytes(message: Message): number {
  return (message.attachments ?? []).reduce((total, attachment) => total + attachment.content.length, 0);
}

export type MessageSender = { send(message: Message): Promise<void> };

// For messages read back from storage (the dev outbox).
export const messageSchema = z.object({
  channel: z.enum(["email", "sms"]),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  purpose: z.string(),
}) satisfies z.ZodType<Message>;
