// Whose turn it is. In parallel order every signer and approver may act at once; in sequential order
// each acts only once everyone before them has. Viewers (copies) never have a turn.
import type { Selectable } from "kysely";
import type { SignatureRecipientsTable, SignatureRequestsTable } from "../../store/schema.ts";

export type RecipientRow = Selectable<SignatureRecipientsTable>;

const acts = (recipient: RecipientRow) => recipient.role !== "viewer";

export function isTurnOf(request: Pick<Selectable<SignatureRequestsTable>, "signing_order">, recipients: RecipientRow[], recipient: RecipientRow): boolean {
  if (!acts(recipient)) return false;
  if (request.signing_order === "parallel") return true;
  return recipients.filter(acts).every((other) => other.order_index >= recipient.order_index || other.status === "signed");
}

// Recipients whose turn has come and who have not been sent their link yet.
export function recipientsDue(request: Pick<Selectable<SignatureRequestsTable>, "signing_order">, recipients: RecipientRow[]): RecipientRow[] {
  return recipients.filter((recipient) => recipient.status === "waiting" && isTurnOf(request, recipients, recipient));
}

export function allHaveSigned(recipients: RecipientRow[]): boolean {
  return recipients.filter(acts).every((recipient) => recipient.status === "signed");
}
