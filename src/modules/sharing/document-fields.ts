// The sealed fields of documents and folders, opened for readers outside the company's rights (a share
// link's recipient, an operator with support access). The contexts must match those the documents
// module seals with (documents/document-routes.ts): a different context cannot open the field.
import type { Vault } from "../../vault/vault.ts";

export function documentTitleContext(tenantId: string, documentId: string) {
  return { tenantId, objectType: "document", objectId: documentId, objectVersion: 1, field: "title" };
}

export function folderNameContext(tenantId: string, folderId: string) {
  return { tenantId, objectType: "folder", objectId: folderId, objectVersion: 1, field: "name" };
}

export function openDocumentTitle(vault: Vault, document: { tenant_id: string; id: string; title_ciphertext: Uint8Array }): Promise<string> {
  return vault.data.openString(documentTitleContext(document.tenant_id, document.id), document.title_ciphertext);
}

export function openFolderName(vault: Vault, folder: { tenant_id: string; id: string; name_ciphertext: Uint8Array }): Promise<string> {
  return vault.data.openString(folderNameContext(folder.tenant_id, folder.id), folder.name_ciphertext);
}
