// The documents API as the pages use it: the shapes the server answers with, and the paths of one
// company's folders, documents, pages, versions, rights, share links, trash and search.
import { api, apiPath, uploadFile, type UploadProgress } from "../../api.ts";

export type Access = "view" | "edit" | "manage";
export type Crumb = { id: string; name: string };
export type FolderItem = { id: string; name: string; access: Access };
export type DocumentItem = {
  id: string; kind: "file" | "page"; folderId: string | null; title: string; version: number; size: number;
  contentType: string | null; createdAt: string; updatedAt: string; deletedAt: string | null; access: Access;
};
// Sub-folders come whole with the first page; documents a page at a time (`next` is the cursor).
export type FolderListing = { id: string; breadcrumbs: Crumb[]; access: Access | "none"; folders: FolderItem[]; documents: DocumentItem[]; next?: string | null };
export type DocumentDetail = DocumentItem & { breadcrumbs: Crumb[] };
export type PageDetail = DocumentItem & { text: string };
export type Version = { version: number; size: number; contentType: string; createdAt: string; createdBy: string; filename: string | null; current: boolean };
export type Grant = { principalType: "user" | "group"; principalId: string; permission: Access };
export type Share = {
  id: string; documentId: string; status: "active" | "expired" | "revoked" | "locked"; pinRequired: boolean;
  recipient: { email?: string; phone?: string } | null; createdAt: string; expiresAt: string; revokedAt: string | null;
  downloads: number; lastDownloadAt: string | null;
};
export type NewShare = { expiresAt: string; pin: boolean; recipientEmail?: string; recipientPhone?: string };
/** The link (and a PIN not sent by text message) are in this answer only. */
export type CreatedShare = { share: Share; url: string; pin?: string; linkSentTo?: "email"; pinSentTo?: "sms" };
export type SearchResult = { id: string; kind: "file" | "page"; title: string; folderId?: string | null; snippet?: string; updatedAt?: string };

const rank: Record<Access | "none", number> = { none: 0, view: 1, edit: 2, manage: 3 };

export function may(access: Access | "none", needed: Access): boolean {
  return rank[access] >= rank[needed];
}

export function documentsApi(tenantId: string) {
  const base = apiPath`/v1/tenants/${tenantId}`;
  const documentPath = (id: string) => base + apiPath`/documents/${id}`;
  const folderPath = (id: string | null) => base + apiPath`/folders/${id ?? "root"}`;
  return {
    folder: (id: string | null, after?: string) => api.get<FolderListing>(folderPath(id) + (after ? `?after=${encodeURIComponent(after)}` : "")),
    createFolder: (name: string, parentId: string | null) => api.post<{ id: string }>(`${base}/folders`, parentId ? { name, parentId } : { name }),
    renameFolder: (id: string, name: string) => api.patch(folderPath(id), { name }),
    moveFolder: (id: string, parentId: string | null) => api.patch(folderPath(id), { parentId }),

    document: (id: string) => api.get<DocumentDetail>(documentPath(id)),
    createDocument: (title: string, folderId: string | null, kind: "file" | "page") =>
      api.post<{ id: string; version: number }>(`${base}/documents`, folderId ? { title, folderId, kind } : { title, kind }),
    renameDocument: (id: string, title: string) => api.patch(documentPath(id), { title }),
    moveDocument: (id: string, folderId: string | null) => api.patch(documentPath(id), { folderId }),
    trashDocument: (id: string) => api.delete(documentPath(id)),
    contentUrl: (id: string, version?: number) => `${documentPath(id)}/content${version === undefined ? "" : `?version=${version}`}`,
    upload: (id: string, baseVersion: number, file: File, onProgress: (progress: UploadProgress) => void, signal?: AbortSignal) =>
      uploadFile<{ version: number; size: number }>(`${documentPath(id)}/content?baseVersion=${baseVersion}`, file, {
        "x-content-type": mediaTypeOf(file),
        "x-filename": encodeURIComponent(file.name.slice(0, 500)),
      }, onProgress, signal),
    versions: (id: string) => api.get<{ versions: Version[] }>(`${documentPath(id)}/versions`).then((answer) => answer.versions),
    restoreVersion: (id: string, version: number, baseVersion: number) => api.post<{ version: number }>(`${documentPath(id)}/versions/${version}/restore`, { baseVersion }),

    page: (id: string) => api.get<PageDetail>(base + apiPath`/pages/${id}`),
    savePage: (id: string, text: string, baseVersion: number) => api.put<{ version: number }>(base + apiPath`/pages/${id}`, { text, baseVersion }),

    grants: (resourceType: "folder" | "document", resourceId: string) =>
      api.get<{ grants: Grant[] }>(`${base}/grants?resourceType=${resourceType}&resourceId=${encodeURIComponent(resourceId)}`).then((answer) => answer.grants),
    setGrant: (resourceType: "folder" | "document", resourceId: string, principalType: "user" | "group", principalId: string, permission: Access | null) =>
      api.put(`${base}/grants`, { resourceType, resourceId, principalType, principalId, permission }),

    shares: (documentId: string) => api.get<{ shares: Share[] }>(`${documentPath(documentId)}/shares`).then((answer) => answer.shares),
    createShare: (documentId: string, input: NewShare) => api.post<CreatedShare>(`${documentPath(documentId)}/shares`, input),
    revokeShare: (documentId: string, shareId: string) => api.delete(`${documentPath(documentId)}${apiPath`/shares/${shareId}`}`),

    trash: () => api.get<{ documents: DocumentItem[] }>(`${base}/trash`).then((answer) => answer.documents),
    restoreFromTrash: (id: string) => api.post(base + apiPath`/trash/${id}/restore`),
    emptyTrash: () => api.delete<{ deleted: number }>(`${base}/trash`),

    search: (query: string) => api.get<{ results: SearchResult[] }>(`${base}/search?q=${encodeURIComponent(query)}`).then((answer) => answer.results),
  };
}

export type DocumentsApi = ReturnType<typeof documentsApi>;

// The media type the server records: the browser's guess when it is a plain type/subtype, else bytes.
export function mediaTypeOf(file: File): string {
  if (/^[\w.+-]+\/[\w.+-]+$/.test(file.type)) return file.type;
  return /\.pdf$/i.test(file.name) ? "application/pdf" : "application/octet-stream";
}

export function isPdf(contentType: string | null | undefined): boolean {
  return contentType === "application/pdf";
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

// Where a document is shown in the app: a page opens in its editor, a file on its own page.
export function documentHref(item: { id: string; kind: "file" | "page" }): string {
  return item.kind === "page" ? `/pages/${encodeURIComponent(item.id)}` : `/documents/${encodeURIComponent(item.id)}`;
}

export function folderHref(id: string | null): string {
  return id ? `/folders/${encodeURIComponent(id)}` : "/documents";
}
