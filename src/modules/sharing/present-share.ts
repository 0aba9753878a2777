// What the sharer sees of a link: never its token or PIN (only shown once, at creation).
import type { Selectable } from "kysely";
import type { DocumentSharesTable } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";

export type ShareRow = Selectable<DocumentSharesTable>;

export function recipientContext(tenantId: string, shareId: string) {
  return { tenantId, objectType: "document_share", objectId: shareId, objectVersion: 1, field: "recipient" };
}

export function shareStatus(share: ShareRow, now = Date.now()): "active" | "expired" | "revoked" | "locked" {
  if (share.revoked_at) return "revoked";
  if (Date.parse(share.expires_at) <= now) return "expired";
  if (share.locked_at) return "locked";
  return "active";
}

export async function presentShare(vault: Vault, share: ShareRow) {
  const recipient = share.recipient_ciphertext
    ? JSON.parse(await vault.data.openString(recipientContext(share.tenant_id, share.id), share.recipient_ciphertext)) as { email?: string; phone?: string }
    : null;
  return {
    id: share.id, documentId: share.document_id, status: shareStatus(share), pinRequired: share.pin_hash !== null, recipient,
    createdBy: share.created_by, createdAt: share.created_at, expiresAt: share.expires_at, revokedAt: share.revoked_at,
    downloads: Number(share.download_count), lastDownloadAt: share.last_download_at,
  };
}
