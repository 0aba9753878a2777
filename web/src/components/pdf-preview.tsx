// A PDF shown in the page, one page at a time, drawn by PDF.js on a canvas (see pdf-document.ts).
// The browser's own PDF viewer would need the CSP to allow frames or objects from blob: URLs.
import { useEffect, useRef, useState } from "react";
import type { OpenedPdf } from "../pdf-document.ts";
import { Alert } from "./form.tsx";

// headers: sent with the request for the file (a signer's session); fixed for the preview's life.
export function PdfPreview(props: { url: string; title: string; headers?: Record<string, string> }) {
  const headers = useRef(props.headers);
  const canvas = useRef<HTMLCanvasElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const [pdf, setPdf] = useState<OpenedPdf | null>(null);
  const [pageNumber, setPageNumber] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const [rendered, setRendered] = useState(0);

  useEffect(() => {
    let live = true;
    let opened: OpenedPdf | undefined;
    setPdf(null);
    setError(null);
    setPageNumber(1);
    import("../pdf-document.ts")
      .then((module) => module.openPdf(props.url, headers.current))
      .then((loaded) => {
        opened = loaded;
        if (live) setPdf(loaded);
        else void loaded.close();
      })
      .catch(() => live && setError("This PDF could not be shown. Download it to open it."));
    return () => {
      live = false;
      void opened?.close();
    };
  }, [props.url]);

  useEffect(() => {
    if (!pdf || !canvas.current) return;
    let live = true;
    const width = Math.max(200, Math.min(frame.current?.clientWidth ?? 800, 1200));
    const drawing = pdf.draw(pageNumber, canvas.current, width);
    drawing.done
      .then(() => live && setRendered(pageNumber))
      .catch(() => live && setError("This page of the PDF could not be drawn."));
    return () => {
      live = false;
      drawing.cancel();
    };
  }, [pdf, pageNumber]);

  return (
    <div className="pdf-preview" ref={frame}>
      {error && <Alert>{error}</Alert>}
      {!pdf && !error && <p className="muted" aria-live="polite">Loading the preview…</p>}
      {pdf && (
        <div className="pdf-toolbar">
          <button type="button" className="button small secondary" disabled={pageNumber <= 1} onClick={() => setPageNumber(pageNumber - 1)}>Previous page</button>
          <span aria-live="polite">Page {pageNumber} of {pdf.pageCount}</span>
          <button type="button" className="button small secondary" disabled={pageNumber >= pdf.pageCount} onClick={() => setPageNumber(pageNumber + 1)}>Next page</button>
        </div>
      )}
      <canvas ref={canvas} className={pdf ? "pdf-page" : "pdf-page hidden"} role="img"
        aria-label={`Page ${pageNumber} of ${props.title}`} data-rendered-page={rendered || undefined} />
    </div>
  );
}
