// PDF.js, loaded only when a PDF is previewed. It runs under the app's CSP as it is: its worker is a
// file of this app (worker-src falls back to 'self'), nothing is evaluated from strings, WebAssembly
// decoders are off (the CSP allows no WebAssembly compilation), fonts are loaded through the Font
// Loading API from bytes, and pages are drawn on a canvas (no text or annotation layer, no styles).
import { getDocument, GlobalWorkerOptions, type PDFDocumentProxy } from "pdfjs-dist";
import workerUrl from "pdfjs-dist/build/pdf.worker.min.mjs?url";

GlobalWorkerOptions.workerSrc = workerUrl;

export type PageDrawing = { done: Promise<void>; cancel(): void };
export type OpenedPdf = { pageCount: number; draw(pageNumber: number, canvas: HTMLCanvasElement, cssWidth: number): PageDrawing; close(): Promise<void> };

// The whole file in one request (no Range chunks, so a preview counts as one download).
export async function openPdf(url: string, headers?: Record<string, string>): Promise<OpenedPdf> {
  const task = getDocument({
    url,
    ...(headers ? { httpHeaders: headers } : {}),
    disableRange: true,
    useWasm: false,
    enableXfa: false,
    stopAtErrors: false,
    maxImageSize: 64 * 1024 * 1024,
  });
  const pdf: PDFDocumentProxy = await task.promise;
  return {
    pageCount: pdf.numPages,
    draw(pageNumber, canvas, cssWidth) {
      let cancelled = false;
      let cancelTask = () => {};
      const done = (async () => {
        const page = await pdf.getPage(pageNumber);
        if (cancelled) return;
        const unscaled = page.getViewport({ scale: 1 });
        const pixelRatio = Math.min(window.devicePixelRatio || 1, 3);
        // Drawn at the width it is shown (times the screen's pixel ratio); CSS scales the canvas back.
        const viewport = page.getViewport({ scale: Math.min(4, Math.max(0.25, (cssWidth * pixelRatio) / unscaled.width)) });
        canvas.width = Math.floor(viewport.width);
        canvas.height = Math.floor(viewport.height);
        const task = page.render({ canvas, viewport });
        cancelTask = () => task.cancel();
        await task.promise;
      })();
      return { done, cancel: () => { cancelled = true; cancelTask(); } };
    },
    close: () => task.destroy(),
  };
}
