// Reminders to recipients whose turn it is and who have not acted: each gets a fresh link and PIN
// (the old link stops working, since only hashes are kept). A locked link is not reminded: its
// recipient needs a new PIN from the sender.
import { AppError } from "../../errors/app-error.ts";
import { issueSigningLink } from "./issue-signing-link.ts";
import { loadRecipients } from "./send-signature-request.ts";
import type { SigningDeps } from "./signing-deps.ts";
import type { RequestRow } from "./signing-policy.ts";
import { isTurnOf } from "./signing-turns.ts";

export async function remindRecipients(deps: SigningDeps, request: RequestRow, now = Date.now()): Promise<{ reminded: number }> {
  if (request.status !== "sent") throw new AppError("conflict", `this request is ${request.status}: there is no one to remind`);
  const recipients = await loadRecipients(deps, request);
  let reminded = 0;
  for (const recipient of recipients) {
    if (recipient.status !== "sent" || recipient.locked_at || !isTurnOf(request, recipients, recipient)) continue;
    await issueSigningLink(deps, request, recipient, "reminder", now);
    reminded++;
  }
  return { reminded };
}
