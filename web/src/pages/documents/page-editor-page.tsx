// A wiki page (/pages/:id): Markdown on the left, its safe preview on the right, saved as a new
// version based on the one loaded. If someone saved in between, the server refuses (409) and the
// page says so, keeps the text typed here, and offers to load the newer version.
import { useCallback, useEffect, useId, useMemo, useState, type MouseEvent } from "react";
import { ApiError, messageOf } from "../../api.ts";
import { Alert, Notice, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";
import { internalLinkOf, renderMarkdown } from "../../markdown.ts";
import { navigate } from "../../router.tsx";
import { currentCompany, type Session } from "../../session.tsx";
import { Breadcrumbs } from "./breadcrumbs.tsx";
import { documentsApi, folderHref, may, type Crumb, type DocumentsApi, type PageDetail } from "./documents-api.ts";
import { ItemActions } from "./item-dialogs.tsx";
import { VersionsSection } from "./versions-section.tsx";

const maxPageBytes = 1024 * 1024;

export function PageEditorPage(props: { session: Session; pageId: string }) {
  const company = currentCompany(props.session);
  if (!company) return <Page title="Page"><p className="muted">You do not belong to an active company.</p></Page>;
  return <PageView key={`${company.id}/${props.pageId}`} tenantId={company.id} pageId={props.pageId} />;
}

function PageView(props: { tenantId: string; pageId: string }) {
  const docs = useMemo(() => documentsApi(props.tenantId), [props.tenantId]);
  // The page's text and, from the document itself, where it sits.
  const load = useCallback(async (): Promise<PageWithTrail> => {
    const [page, document] = await Promise.all([docs.page(props.pageId), docs.document(props.pageId)]);
    return { ...page, breadcrumbs: document.breadcrumbs };
  }, [docs, props.pageId]);
  const page = useLoaded(load, props.pageId);
  const data = page.data;
  if (!data) {
    return (
      <Page title="Page">
        {page.error ? <Alert>{page.error}</Alert> : <p className="loading">Loading…</p>}
      </Page>
    );
  }
  const folderId = data.breadcrumbs.at(-1)?.id ?? null;
  return (
    <Page title={data.title}>
      <Breadcrumbs trail={data.breadcrumbs} current={data.title} />
      <div className="buttons page-actions">
        <ItemActions small tenantId={props.tenantId} docs={docs} onChanged={page.reload} onTrashed={() => navigate(folderHref(folderId))}
          item={{ type: "document", id: data.id, name: data.title, access: data.access, parentId: folderId, kind: "page" }} />
      </div>
      <Editor key={data.id} docs={docs} page={data} reload={page.reload} />
      <VersionsSection docs={docs} document={data} onRestored={page.reload} />
    </Page>
  );
}

type Conflict = { draft: string };
type PageWithTrail = PageDetail & { breadcrumbs: Crumb[] };

function Editor(props: { docs: DocumentsApi; page: PageWithTrail; reload(): Promise<void> }) {
  const { page } = props;
  const editable = may(page.access, "edit");
  const [text, setText] = useState(page.text);
  const [baseVersion, setBaseVersion] = useState(page.version);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [kept, setKept] = useState<string | null>(null);
  const [savedAt, setSavedAt] = useState<string | null>(null);
  const textId = useId();
  const preview = useMemo(() => renderMarkdown(text), [text]);
  const changed = text !== page.text || baseVersion !== page.version;

  // A newer version loaded from the server (after a save, a restore or a reload) replaces the text.
  useEffect(() => {
    setText(page.text);
    setBaseVersion(page.version);
  }, [page.text, page.version]);

  const save = async () => {
    setSaving(true);
    setError(null);
    setSavedAt(null);
    try {
      if (new TextEncoder().encode(text).length > maxPageBytes) throw new ApiError(0, "page_too_large", "The page is longer than 1 MB. Split it into several pages.");
      const saved = await props.docs.savePage(page.id, text, baseVersion);
      setBaseVersion(saved.version);
      setSavedAt(new Date().toISOString());
      setKept(null);
      await props.reload();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 409) setConflict({ draft: text });
      else setError(messageOf(failure));
    } finally {
      setSaving(false);
    }
  };

  const loadLatest = async () => {
    if (conflict) setKept(conflict.draft);
    setConflict(null);
    await props.reload();
  };

  // Closing or reloading the tab with unsaved text asks first.
  useEffect(() => {
    if (!changed) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [changed]);

  // Links between pages are followed inside the app; others open in a new tab (see markdown.ts).
  const followInternalLink = (event: MouseEvent<HTMLDivElement>) => {
    const path = internalLinkOf(event.target);
    if (!path || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    if (editable && changed && !window.confirm("Leave this page? Your unsaved changes will be lost.")) return;
    navigate(path);
  };

  const rendered = <div className="markdown" data-testid="page-preview" onClick={followInternalLink} dangerouslySetInnerHTML={{ __html: preview }} />;
  if (!editable) return <Card className="page-body">{rendered}</Card>;

  return (
    <Card className="page-body">
      {conflict && (
        <div role="alert" className="alert conflict">
          <p><strong>Someone else saved this page while you were editing it.</strong> Your changes are not saved.</p>
          <p>Load the latest version to see what changed; your text will be kept below it so you can copy your changes in again.</p>
          <div className="buttons">
            <button type="button" className="button small" onClick={() => void loadLatest()}>Load the latest version</button>
            <button type="button" className="button small secondary" onClick={() => setConflict(null)}>Not now</button>
          </div>
        </div>
      )}
      {error && <Alert>{error}</Alert>}
      {savedAt && !changed && <Notice>Saved as version {baseVersion}.</Notice>}
      <div className="editor">
        <div className="field">
          <label htmlFor={textId}>Markdown</label>
          <textarea id={textId} className="markdown-source" value={text} rows={22} spellCheck maxLength={maxPageBytes}
            onChange={(event) => setText(event.target.value)} />
          <small className="hint">
            Headings with #, lists with -, links as [text](https://…) or to another page as [title](/pages/its-id). HTML is shown as text.
          </small>
        </div>
        <div className="field">
          <span className="field-label" id={`${textId}-preview`}>Preview</span>
          <div aria-labelledby={`${textId}-preview`} role="region">{rendered}</div>
        </div>
      </div>
      <div className="buttons editor-actions">
        <button type="button" className="button" disabled={saving || !changed} onClick={() => void save()}>{saving ? "Saving…" : "Save"}</button>
        <span className="muted">Version {baseVersion} · changed {formatTime(page.updatedAt)}{changed ? " · unsaved changes" : ""}</span>
      </div>
      {kept !== null && (
        <div className="field kept-draft">
          <label htmlFor={`${textId}-kept`}>Your unsaved text (copy what you need, then dismiss it)</label>
          <textarea id={`${textId}-kept`} value={kept} rows={8} readOnly />
          <button type="button" className="button small secondary" onClick={() => setKept(null)}>Dismiss</button>
        </div>
      )}
    </Card>
  );
}
