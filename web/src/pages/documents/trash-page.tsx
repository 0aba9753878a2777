// The company's trash: documents and pages moved there, which those who manage them can restore.
// Owners and admins can empty it, which deletes the documents and every version for good.
import { useCallback, useMemo, useState } from "react";
import { ActionButton, Alert, Notice, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";
import { Link } from "../../router.tsx";
import { atLeast, currentCompany, type Session } from "../../session.tsx";
import { documentsApi, formatSize } from "./documents-api.ts";

export function TrashPage(props: { session: Session }) {
  const company = currentCompany(props.session);
  if (!company) return <Page title="Trash"><p className="muted">You do not belong to an active company.</p></Page>;
  return <TrashView key={company.id} tenantId={company.id} isAdmin={atLeast(company.role, "admin")} />;
}

function TrashView(props: { tenantId: string; isAdmin: boolean }) {
  const docs = useMemo(() => documentsApi(props.tenantId), [props.tenantId]);
  const load = useCallback(() => docs.trash(), [docs]);
  const trash = useLoaded(load, props.tenantId);
  const [notice, setNotice] = useState<string | null>(null);
  const restore = async (id: string, title: string) => {
    await docs.restoreFromTrash(id);
    setNotice(`“${title}” is back in its folder.`);
    await trash.reload();
  };
  const empty = async () => {
    const answer = await docs.emptyTrash();
    setNotice(`The trash is empty: ${answer.deleted} document${answer.deleted === 1 ? "" : "s"} deleted for good.`);
    await trash.reload();
  };
  const items = trash.data ?? [];
  return (
    <Page title="Trash" intro="Documents and pages moved to the trash stay here until the trash is emptied.">
      <div className="buttons page-actions">
        <Link to="/documents" className="button secondary">Back to documents</Link>
        {props.isAdmin && items.length > 0 && (
          <ActionButton label="Empty the trash" danger confirm="Delete everything in the trash for good, with every version?" action={empty} />
        )}
      </div>
      {notice && <Notice>{notice}</Notice>}
      {trash.error && <Alert>{trash.error}</Alert>}
      <Card>
        {trash.data && items.length === 0 && <p className="muted">The trash is empty.</p>}
        <ul className="rows" aria-label="Trash">
          {items.map((item) => (
            <li key={item.id} className="row">
              <div className="row-main">
                <strong>{item.title}</strong>
                <span className="muted">
                  {item.kind === "page" ? "page" : `${item.contentType ?? "file"} · ${formatSize(item.size)}`} · moved to the trash {formatTime(item.deletedAt)}
                </span>
              </div>
              <div className="row-actions">
                <ActionButton label="Restore" action={() => restore(item.id, item.title)} />
              </div>
            </li>
          ))}
        </ul>
      </Card>
    </Page>
  );
}
