// One uploaded file (/documents/:id): what it is, a preview when it is a PDF, download, a new
// version with upload progress, the item's actions, and its version history.
import { useCallback, useEffect, useMemo } from "react";
import { Alert, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { PdfPreview } from "../../components/pdf-preview.tsx";
import { formatTime } from "../../format.ts";
import { navigate } from "../../router.tsx";
import { currentCompany, type Session } from "../../session.tsx";
import { Breadcrumbs } from "./breadcrumbs.tsx";
import { documentsApi, folderHref, formatSize, isPdf, may, type DocumentDetail, type DocumentsApi } from "./documents-api.ts";
import { ItemActions } from "./item-dialogs.tsx";
import { SignatureRequestsSection } from "./signature-requests.tsx";
import { UploadButton, UploadList, useUploads } from "./uploads.tsx";
import { VersionsSection } from "./versions-section.tsx";

export function DocumentPage(props: { session: Session; documentId: string }) {
  const company = currentCompany(props.session);
  if (!company) return <Page title="Document"><p className="muted">You do not belong to an active company.</p></Page>;
  return <DocumentView key={`${company.id}/${props.documentId}`} tenantId={company.id} documentId={props.documentId} />;
}

function DocumentView(props: { tenantId: string; documentId: string }) {
  const docs = useMemo(() => documentsApi(props.tenantId), [props.tenantId]);
  const load = useCallback(() => docs.document(props.documentId), [docs, props.documentId]);
  const document = useLoaded(load, props.documentId);
  const data = document.data;
  // A page has its own editor.
  useEffect(() => {
    if (data?.kind === "page") navigate(`/pages/${encodeURIComponent(data.id)}`, { replace: true });
  }, [data]);
  if (!data) {
    return (
      <Page title="Document">
        {document.error ? <Alert>{document.error}</Alert> : <p className="loading">Loading…</p>}
      </Page>
    );
  }
  const folderId = data.breadcrumbs.at(-1)?.id ?? null;
  return (
    <Page title={data.title}>
      <Breadcrumbs trail={data.breadcrumbs} current={data.title} />
      <Card>
        <dl className="facts">
          <dt>Type</dt><dd>{data.contentType ?? "unknown"}</dd>
          <dt>Size</dt><dd>{formatSize(data.size)}</dd>
          <dt>Version</dt><dd>{data.version}</dd>
          <dt>Changed</dt><dd>{formatTime(data.updatedAt)}</dd>
          <dt>Your right</dt><dd>{data.access}</dd>
        </dl>
        <div className="buttons">
          <a className="button" href={docs.contentUrl(data.id)} download>Download</a>
          {may(data.access, "edit") && <NewVersion docs={docs} document={data} onUploaded={document.reload} />}
        </div>
        <div className="buttons item-actions">
          <ItemActions small tenantId={props.tenantId} docs={docs} onChanged={document.reload} onTrashed={() => navigate(folderHref(folderId))}
            item={{ type: "document", id: data.id, name: data.title, access: data.access, parentId: folderId, kind: data.kind }} />
        </div>
      </Card>
      {isPdf(data.contentType) && (
        <Card title="Preview" className="preview-card">
          <PdfPreview key={data.version} url={docs.contentUrl(data.id, data.version)} title={data.title} />
        </Card>
      )}
      {isPdf(data.contentType) && may(data.access, "edit") && <SignatureRequestsSection tenantId={props.tenantId} document={{ id: data.id, title: data.title }} canSend />}
      <VersionsSection docs={docs} document={data} onRestored={document.reload} />
    </Page>
  );
}

function NewVersion(props: { docs: DocumentsApi; document: DocumentDetail; onUploaded(): Promise<void> }) {
  const uploads = useUploads();
  const upload = async (files: File[]) => {
    const file = files[0];
    if (!file) return;
    // Based on the version shown: if someone uploaded meanwhile, the server refuses (409) and says so.
    if (await uploads.start(file, (onProgress, signal) => props.docs.upload(props.document.id, props.document.version, file, onProgress, signal))) {
      await props.onUploaded();
    }
  };
  return (
    <>
      <UploadButton label="Upload a new version" secondary onFiles={(files) => void upload(files)} />
      <div className="full-width"><UploadList jobs={uploads.jobs} onClear={uploads.clear} /></div>
    </>
  );
}
