// Moving a folder or document: browse to the destination folder and move it there. A folder is not
// offered as a destination inside itself (the server refuses that too).
import { useCallback, useState } from "react";
import { Alert, useAction, useLoaded } from "../../components/form.tsx";
import { Dialog } from "../../components/dialog.tsx";
import { may, type DocumentsApi } from "./documents-api.ts";

type Props = {
  docs: DocumentsApi;
  item: { type: "folder" | "document"; id: string; name: string };
  from: string | null;
  onMoved(): void;
  onClose(): void;
};

export function MoveDialog(props: Props) {
  const [at, setAt] = useState<string | null>(props.from);
  const load = useCallback(() => props.docs.folder(at), [props.docs, at]);
  const listing = useLoaded(load, at ?? "root");
  const move = useAction(async () => {
    if (props.item.type === "folder") await props.docs.moveFolder(props.item.id, at);
    else await props.docs.moveDocument(props.item.id, at);
    props.onMoved();
  });
  const here = listing.data;
  const hereName = here?.breadcrumbs.at(-1)?.name ?? "Documents";
  const folders = (here?.folders ?? []).filter((folder) => !(props.item.type === "folder" && folder.id === props.item.id));
  return (
    <Dialog title={`Move “${props.item.name}”`} onClose={props.onClose}>
      <p className="muted">Choose the folder to move it into.</p>
      <nav aria-label="Destination path">
        <ol className="breadcrumbs">
          <li>{at === null ? <span aria-current="location">Documents</span> : <button type="button" className="linkish" onClick={() => setAt(null)}>Documents</button>}</li>
          {here?.breadcrumbs.map((crumb, index) => (
            <li key={crumb.id}>
              {index === here.breadcrumbs.length - 1
                ? <span aria-current="location">{crumb.name}</span>
                : <button type="button" className="linkish" onClick={() => setAt(crumb.id)}>{crumb.name}</button>}
            </li>
          ))}
        </ol>
      </nav>
      {listing.error && <Alert>{listing.error}</Alert>}
      <ul className="rows folder-picker" aria-label="Folders">
        {folders.length === 0 && here && <li className="row muted">No folders in here.</li>}
        {folders.map((folder) => (
          <li key={folder.id} className="row">
            <button type="button" className="linkish folder-name" onClick={() => setAt(folder.id)}>{folder.name}</button>
          </li>
        ))}
      </ul>
      {move.error && <Alert>{move.error}</Alert>}
      <div className="buttons dialog-actions">
        <button type="button" className="button" disabled={move.busy || !here || !may(here.access, "edit") || at === props.from}
          onClick={() => void move.run()}>
          {move.busy ? "Moving…" : `Move to ${hereName}`}
        </button>
      </div>
    </Dialog>
  );
}
