// The company's documents: one folder at a time (the root at /documents, others at /folders/:id),
// with breadcrumbs, sub-folders, files and pages, uploads with progress, new folders and pages, and
// the actions each item allows. Only what the caller may see is listed (the server decides).
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "../../api.ts";
import { Alert, Field, Form, useAction, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { Dialog } from "../../components/dialog.tsx";
import { formatTime } from "../../format.ts";
import { Link, navigate } from "../../router.tsx";
import { currentCompany, type Session } from "../../session.tsx";
import { Breadcrumbs } from "./breadcrumbs.tsx";
import { documentHref, documentsApi, folderHref, formatSize, isPdf, may, type DocumentItem, type DocumentsApi, type FolderListing } from "./documents-api.ts";
import { ItemActions } from "./item-dialogs.tsx";
import { SearchBox } from "./search-box.tsx";
import { UploadButton, UploadList, useUploads } from "./uploads.tsx";

export function FileBrowserPage(props: { session: Session; folderId: string | null }) {
  const company = currentCompany(props.session);
  if (!company) return <Page title="Documents"><p className="muted">You do not belong to an active company.</p></Page>;
  return <FolderView key={`${company.id}/${props.folderId ?? "root"}`} tenantId={company.id} folderId={props.folderId} />;
}

function FolderView(props: { tenantId: string; folderId: string | null }) {
  const docs = useMemo(() => documentsApi(props.tenantId), [props.tenantId]);
  const load = useCallback(() => docs.folder(props.folderId), [docs, props.folderId]);
  const listing = useLoaded(load, props.folderId ?? "root");
  const uploads = useUploads();
  const [creating, setCreating] = useState<"folder" | "page" | null>(null);
  const data = listing.data;
  // Further pages of documents, loaded on request; a reload of the folder starts again from the first.
  const [more, setMore] = useState<{ documents: DocumentItem[]; next: string | null } | null>(null);
  useEffect(() => setMore(null), [data]);
  const next = more ? more.next : data?.next ?? null;
  const loadMore = useAction(async () => {
    if (!next) return;
    const page = await docs.folder(props.folderId, next);
    setMore({ documents: [...(more?.documents ?? []), ...page.documents], next: page.next ?? null });
  });
  const title = data?.breadcrumbs.at(-1)?.name ?? "Documents";
  const mayAdd = data ? may(data.access, "edit") : false;

  const uploadFiles = async (files: File[]) => {
    for (const file of files) {
      await uploads.start(file, async (onProgress, signal) => {
        const created = await docs.createDocument(file.name.slice(0, 500) || "Untitled", props.folderId, "file");
        await docs.upload(created.id, created.version, file, onProgress, signal);
      });
    }
    await listing.reload();
  };

  return (
    <Page title={title}>
      <div className="documents-bar">
        <SearchBox />
        <Link to="/trash" className="button secondary">Trash</Link>
      </div>
      {data && data.breadcrumbs.length > 0 && <Breadcrumbs trail={data.breadcrumbs} />}
      {listing.error && <Alert>{listing.error}</Alert>}
      {data && (
        <div className="buttons page-actions">
          {mayAdd && <UploadButton label="Upload files" multiple onFiles={(files) => void uploadFiles(files)} />}
          {mayAdd && <button type="button" className="button secondary" onClick={() => setCreating("folder")}>New folder</button>}
          {mayAdd && <button type="button" className="button secondary" onClick={() => setCreating("page")}>New page</button>}
          {props.folderId && data.breadcrumbs.length > 0 && (
            <span className="folder-actions">
              <ItemActions small tenantId={props.tenantId} docs={docs} onChanged={listing.reload}
              item={{ type: "folder", id: props.folderId, name: title, access: data.access === "none" ? "view" : data.access, parentId: data.breadcrumbs.at(-2)?.id ?? null }} />
            </span>
          )}
        </div>
      )}
      <UploadList jobs={uploads.jobs} onClear={uploads.clear} />
      {data && <FolderContents tenantId={props.tenantId} docs={docs} listing={data} documents={[...data.documents, ...(more?.documents ?? [])]} reload={listing.reload} />}
      {next && (
        <div className="buttons">
          <button type="button" className="button secondary" disabled={loadMore.busy} onClick={() => void loadMore.run()}>{loadMore.busy ? "Loading…" : "Show more documents"}</button>
          {loadMore.error && <Alert>{loadMore.error}</Alert>}
        </div>
      )}
      {creating && (
        <NewItemDialog kind={creating} onClose={() => setCreating(null)} create={async (name) => {
          if (creating === "folder") {
            const folder = await docs.createFolder(name, props.folderId);
            navigate(folderHref(folder.id));
          } else {
            const page = await docs.createDocument(name, props.folderId, "page");
            await docs.savePage(page.id, `# ${name}\n\n`, page.version);
            navigate(documentHref({ id: page.id, kind: "page" }));
          }
        }} />
      )}
    </Page>
  );
}

function FolderContents(props: { tenantId: string; docs: DocumentsApi; listing: FolderListing; documents: DocumentItem[]; reload(): Promise<void> }) {
  const { listing } = props;
  const folders = [...listing.folders].sort((a, b) => byName.compare(a.name, b.name));
  const documents = [...props.documents].sort((a, b) => byName.compare(a.title, b.title));
  const empty = folders.length === 0 && documents.length === 0;
  const parentId = listing.id === "root" ? null : listing.id;
  return (
    <Card>
      {empty && <p className="muted">{may(listing.access, "edit") ? "Nothing here yet. Upload files, or make a folder or a page." : "Nothing here that you may see."}</p>}
      <ul className="rows files" aria-label="Folder contents">
        {folders.map((folder) => (
          <li key={folder.id} className="row">
            <div className="row-main">
              <span className="item-title"><span className="kind folder" aria-hidden="true">▸</span><Link to={folderHref(folder.id)}>{folder.name}</Link></span>
              <span className="muted">folder</span>
            </div>
            <div className="row-actions">
              <ItemActions small tenantId={props.tenantId} docs={props.docs} onChanged={props.reload}
                item={{ type: "folder", id: folder.id, name: folder.name, access: folder.access, parentId }} />
            </div>
          </li>
        ))}
        {documents.map((document) => (
          <li key={document.id} className="row">
            <div className="row-main">
              <span className="item-title"><span className={`kind ${kindClass(document)}`} aria-hidden="true">{kindLabel(document)}</span><Link to={documentHref(document)}>{document.title}</Link></span>
              <span className="muted">{describe(document)}</span>
            </div>
            <div className="row-actions">
              <ItemActions small tenantId={props.tenantId} docs={props.docs} onChanged={props.reload}
                item={{ type: "document", id: document.id, name: document.title, access: document.access, parentId, kind: document.kind }} />
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

function kindLabel(document: DocumentItem): string {
  if (document.kind === "page") return "¶";
  return isPdf(document.contentType) ? "PDF" : "file";
}

function kindClass(document: DocumentItem): string {
  if (document.kind === "page") return "page";
  return isPdf(document.contentType) ? "pdf" : "file";
}

function describe(document: DocumentItem): string {
  const what = document.kind === "page" ? "page" : `${isPdf(document.contentType) ? "PDF" : document.contentType ?? "file"} · ${formatSize(document.size)}`;
  return `${what} · version ${document.version} · changed ${formatTime(document.updatedAt)}`;
}

function NewItemDialog(props: { kind: "folder" | "page"; create(name: string): Promise<void>; onClose(): void }) {
  const submit = async (values: Record<string, string>) => {
    const name = (values.name ?? "").trim();
    if (!name) throw new ApiError(0, "name_missing", "Give it a name.");
    await props.create(name);
  };
  return (
    <Dialog title={props.kind === "folder" ? "New folder" : "New page"} onClose={props.onClose}>
      <Form submitLabel={props.kind === "folder" ? "Create folder" : "Create page"} onSubmit={submit} label={props.kind === "folder" ? "New folder" : "New page"}>
        <Field label={props.kind === "folder" ? "Folder name" : "Page title"} name="name" required maxLength={500} autoFocus />
      </Form>
    </Dialog>
  );
}
