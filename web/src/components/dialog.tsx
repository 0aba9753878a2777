// A modal dialog on the browser's own <dialog> element: focus stays inside it, Escape closes it,
// and the page behind cannot be used until it is closed.
import { useEffect, useId, useRef, type ReactNode } from "react";

export function Dialog(props: { title: string; onClose(): void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} className={props.wide ? "dialog wide" : "dialog"} aria-labelledby={titleId} onClose={() => onClose.current()}>
      <div className="dialog-header">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="button small secondary" onClick={() => ref.current?.close()}>Close</button>
      </div>
      {props.children}
    </dialog>
  );
}
