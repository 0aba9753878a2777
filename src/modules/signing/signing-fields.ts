// The sealed fields of signature requests: every context names the company, the object and the field,
// so a ciphertext moved to another row or company fails to open.
import type { Vault } from "../../vault/vault.ts";

export const requestTitleContext = (tenantId: string, requestId: string) =>
  ({ tenantId, objectType: "signature_request", objectId: requestId, objectVersion: 1, field: "title" });
export const requestMessageContext = (tenantId: string, requestId: string) =>
  ({ tenantId, objectType: "signature_request", objectId: requestId, objectVersion: 1, field: "message" });
export const sealRecordContext = (tenantId: string, requestId: string) =>
  ({ tenantId, objectType: "signature_request", objectId: requestId, objectVersion: 1, field: "seal" });
export const finalPdfContext = (tenantId: string, requestId: string) =>
  ({ tenantId, objectType: "signature_final_pdf", objectId: requestId, objectVersion: 1 });
export const contactContext = (tenantId: string, recipientId: string) =>
  ({ tenantId, objectType: "signature_recipient", objectId: recipientId, objectVersion: 1, field: "contact" });
export const declineReasonContext = (tenantId: string, recipientId: string) =>
  ({ tenantId, objectType: "signature_recipient", objectId: recipientId, objectVersion: 1, field: "decline_reason" });
export const fieldValueContext = (tenantId: string, fieldId: string) =>
  ({ tenantId, objectType: "signature_field", objectId: fieldId, objectVersion: 1, field: "value" });

export type Contact = { name: string; email: string; phone?: string };

export async function openContact(vault: Vault, recipient: { tenant_id: string; id: string; contact_ciphertext: Uint8Array }): Promise<Contact> {
  return JSON.parse(await vault.data.openString(contactContext(recipient.tenant_id, recipient.id), recipient.contact_ciphertext)) as Contact;
}

export function sealContact(vault: Vault, tenantId: string, recipientId: string, contact: Contact): Promise<Buffer> {
  return vault.data.sealString(contactContext(tenantId, recipientId), JSON.stringify(contact));
}

export function openRequestTitle(vault: Vault, request: { tenant_id: string; id: string; title_ciphertext: Uint8Array }): Promise<string> {
  return vault.data.openString(requestTitleContext(request.tenant_id, request.id), request.title_ciphertext);
}

export async function openRequestMessage(vault: Vault, request: { tenant_id: string; id: string; message_ciphertext: Uint8Array | null }): Promise<string | null> {
  return request.message_ciphertext ? vault.data.openString(requestMessageContext(request.tenant_id, request.id), request.message_ciphertext) : null;
}

export async function openCompanyName(vault: Vault, tenant: { id: string; name_ciphertext: Uint8Array }): Promise<string> {
  return vault.data.openString({ tenantId: tenant.id, objectType: "tenant", objectId: tenant.id, objectVersion: 1, field: "name" }, tenant.name_ciphertext);
}
