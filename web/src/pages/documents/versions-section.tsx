// Every version of a document or page, newest first: download any of them, or restore one, which
// makes a new current version with exactly its bytes (nothing is overwritten).
import { useCallback } from "react";
import { ActionButton, Alert, useLoaded } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";
import { formatSize, may, type DocumentItem, type DocumentsApi } from "./documents-api.ts";

export function VersionsSection(props: { docs: DocumentsApi; document: DocumentItem; onRestored(): Promise<void> }) {
  const { docs, document } = props;
  const load = useCallback(() => docs.versions(document.id), [docs, document.id]);
  // Loaded again whenever the document gets a new version.
  const versions = useLoaded(load, `${document.id}@${document.version}`);
  const restore = async (version: number) => {
    await docs.restoreVersion(document.id, version, document.version);
    await props.onRestored();
  };
  return (
    <Card title="Version history">
      {versions.error && <Alert>{versions.error}</Alert>}
      <ul className="rows" aria-label="Versions">
        {versions.data?.map((version) => (
          <li key={version.version} className="row">
            <div className="row-main">
              <strong>Version {version.version}{version.current && <span className="badge ok inline-badge">current</span>}</strong>
              <span className="muted">
                {formatTime(version.createdAt)} · {formatSize(version.size)}
                {version.filename ? ` · ${version.filename}` : ""}
              </span>
            </div>
            <div className="row-actions">
              <a className="button small secondary" href={docs.contentUrl(document.id, version.version)} download aria-label={`Download version ${version.version}`}>Download</a>
              {!version.current && may(document.access, "edit") && (
                <ActionButton label="Restore" confirm={`Make version ${version.version} the current one again?`} action={() => restore(version.version)} />
              )}
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}
