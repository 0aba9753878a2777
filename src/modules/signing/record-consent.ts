// The signer's consent to sign electronically, recorded once with its time, address and user agent
// before any signature is accepted.
import { recordEvidence } from "./record-evidence.ts";
import type { OpenSigningLink } from "./open-signing-link.ts";
import type { SigningDeps } from "./signing-deps.ts";

export const consentText = "I agree to sign this document electronically, and that my electronic signature has the same effect as my handwritten one.";

export async function recordConsent(deps: SigningDeps, link: OpenSigningLink, meta: { ip: string; userAgent: string | undefined }): Promise<{ consentAt: string }> {
  const { recipient } = link;
  if (recipient.consent_at) return { consentAt: recipient.consent_at };
  const now = new Date().toISOString();
  const changed = await deps.db.updateTable("signature_recipients").set({ consent_at: now })
    .where("tenant_id", "=", recipient.tenant_id).where("id", "=", recipient.id).where("consent_at", "is", null).executeTakeFirst();
  if (Number(changed.numUpdatedRows) === 1) {
    await recordEvidence(deps, { tenantId: recipient.tenant_id, requestId: recipient.request_id, recipientId: recipient.id, event: "consented", ip: meta.ip, userAgent: meta.userAgent });
  }
  return { consentAt: now };
}
