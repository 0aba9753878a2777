// The actions on one folder or document (rename, move, rights, share, trash) and the dialogs they
// open. Buttons appear by the caller's right on the item; the server checks every action again.
import { useState } from "react";
import { ActionButton, Field, Form } from "../../components/form.tsx";
import { Dialog } from "../../components/dialog.tsx";
import { may, type Access, type DocumentsApi } from "./documents-api.ts";
import { MoveDialog } from "./move-dialog.tsx";
import { RightsDialog } from "./rights-dialog.tsx";
import { ShareDialog } from "./share-dialog.tsx";

export type Item = { type: "folder" | "document"; id: string; name: string; access: Access; parentId: string | null; kind?: "file" | "page" };
type Open = "rename" | "move" | "rights" | "share" | null;

type Props = {
  tenantId: string;
  docs: DocumentsApi;
  item: Item;
  small?: boolean;
  onChanged(): Promise<void> | void;
  onTrashed?(): void;
};

export function ItemActions(props: Props) {
  const { item, docs } = props;
  const [open, setOpen] = useState<Open>(null);
  const buttonClass = props.small ? "button small secondary" : "button secondary";
  const close = () => setOpen(null);
  const changed = async () => {
    setOpen(null);
    await props.onChanged();
  };
  const label = (verb: string) => ({ "aria-label": `${verb} ${item.name}` });
  // A folder is renamed and moved with manage; a document is renamed with edit, moved with manage.
  const mayRename = may(item.access, item.type === "folder" ? "manage" : "edit");
  return (
    <>
      {mayRename && <button type="button" className={buttonClass} {...label("Rename")} onClick={() => setOpen("rename")}>Rename</button>}
      {may(item.access, "manage") && <button type="button" className={buttonClass} {...label("Move")} onClick={() => setOpen("move")}>Move</button>}
      {may(item.access, "manage") && <button type="button" className={buttonClass} {...label("Rights on")} onClick={() => setOpen("rights")}>Rights</button>}
      {item.type === "document" && item.kind === "file" && may(item.access, "manage") && (
        <button type="button" className={buttonClass} {...label("Share")} onClick={() => setOpen("share")}>Share</button>
      )}
      {item.type === "document" && may(item.access, "manage") && (
        <ActionButton label="Move to trash" danger confirm={`Move “${item.name}” to the trash?`} action={async () => {
          await docs.trashDocument(item.id);
          if (props.onTrashed) props.onTrashed();
          else await props.onChanged();
        }} />
      )}
      {open === "rename" && <RenameDialog item={item} docs={docs} onDone={changed} onClose={close} />}
      {open === "move" && <MoveDialog docs={docs} item={item} from={item.parentId} onMoved={() => void changed()} onClose={close} />}
      {open === "rights" && <RightsDialog tenantId={props.tenantId} docs={docs} resource={item} onClose={close} />}
      {open === "share" && <ShareDialog docs={docs} document={{ id: item.id, title: item.name }} onClose={close} />}
    </>
  );
}

function RenameDialog(props: { item: Item; docs: DocumentsApi; onDone(): Promise<void>; onClose(): void }) {
  const rename = async (values: Record<string, string>) => {
    const name = (values.name ?? "").trim();
    if (props.item.type === "folder") await props.docs.renameFolder(props.item.id, name);
    else await props.docs.renameDocument(props.item.id, name);
    await props.onDone();
  };
  return (
    <Dialog title={`Rename “${props.item.name}”`} onClose={props.onClose}>
      <Form submitLabel="Rename" onSubmit={rename} label="Rename">
        <Field label="New name" name="name" defaultValue={props.item.name} required maxLength={500} autoFocus />
      </Form>
    </Dialog>
  );
}
