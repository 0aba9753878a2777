// Draws the filled fields onto the original PDF, appends a signature page (fields placed there and
// signers without fields) and a certificate of completion (signers, times, addresses, evidence).
import { PDFDocument, rgb, type PDFFont, type PDFPage } from "pdf-lib";
import { AppError } from "../../errors/app-error.ts";
import { embedSealFonts, hasGlyph, type SealFonts } from "./seal-fonts.ts";
import type { FilledField, SealInput } from "./seal-types.ts";

const pageSize: [number, number] = [595.28, 841.89]; // A4
const margin = 50;
const ink = rgb(0.08, 0.1, 0.35);
const grey = rgb(0.35, 0.35, 0.35);

export type RenderedPdf = { pdfDoc: PDFDocument; certificatePageIndex: number };

export async function renderFinalPdf(input: SealInput, facts: { originalSha256: string; sealedAt: string }): Promise<RenderedPdf> {
  let pdfDoc: PDFDocument;
  try {
    pdfDoc = await PDFDocument.load(input.originalPdf, { updateMetadata: false });
    // pdf-lib accepts some broken files and fails only when their page tree is first used.
    if (pdfDoc.getPages().length === 0) throw new Error("no pages");
  } catch {
    throw new AppError("seal_input_invalid", "the original document is not a readable, unencrypted PDF with pages");
  }
  const fonts = await embedSealFonts(pdfDoc);
  const pageCount = pdfDoc.getPageCount();
  for (const field of input.fields) {
    if (field.page === -1) continue;
    if (field.page >= pageCount) throw new AppError("seal_input_invalid", `a field is placed on page ${field.page + 1} of a ${pageCount}-page document`);
    const page = pdfDoc.getPage(field.page);
    const box = page.getMediaBox();
    await drawField(pdfDoc, page, fonts, field, box.x, box.y);
  }
  await appendSignaturePage(pdfDoc, fonts, input);
  const certificatePageIndex = appendCertificateOfCompletion(pdfDoc, fonts, input, facts);
  pdfDoc.setTitle(printable(fonts.regular, input.title) || "Signed document");
  pdfDoc.setProducer("Strongroom");
  pdfDoc.setModificationDate(new Date(facts.sealedAt));
  return { pdfDoc, certificatePageIndex };
}

async function drawField(pdfDoc: PDFDocument, page: PDFPage, fonts: SealFonts, field: FilledField, originX: number, originY: number): Promise<void> {
  const x = originX + field.x;
  const y = originY + field.y;
  if (field.kind === "signature" && field.value.startsWith("data:")) {
    const image = await pdfDoc.embedPng(pngOf(field.value)).catch(() => {
      throw new AppError("seal_input_invalid", "a drawn signature is not a readable PNG image");
    });
    const fitted = image.scaleToFit(field.width, field.height);
    page.drawImage(image, { x: x + (field.width - fitted.width) / 2, y: y + (field.height - fitted.height) / 2, width: fitted.width, height: fitted.height });
    return;
  }
  if (field.kind === "checkbox") {
    const side = Math.min(field.width, field.height);
    page.drawRectangle({ x, y, width: side, height: side, borderColor: ink, borderWidth: 1 });
    if (field.value === "true") {
      page.drawLine({ start: { x: x + side * 0.2, y: y + side * 0.5 }, end: { x: x + side * 0.42, y: y + side * 0.2 }, thickness: 1.5, color: ink });
      page.drawLine({ start: { x: x + side * 0.42, y: y + side * 0.2 }, end: { x: x + side * 0.82, y: y + side * 0.85 }, thickness: 1.5, color: ink });
    }
    return;
  }
  const font = field.kind === "signature" || field.kind === "initials" ? fonts.script : fonts.regular;
  const text = printable(font, field.value);
  const size = fittedSize(font, text, field.width, field.height);
  page.drawText(text, { x: x + 1, y: y + Math.max(1, (field.height - size) / 2), size, font, color: ink });
}

async function appendSignaturePage(pdfDoc: PDFDocument, fonts: SealFonts, input: SealInput): Promise<void> {
  const onPage = input.fields.filter((field) => field.page === -1);
  const placed = new Set(input.fields.map((field) => field.recipientId));
  const withoutFields = input.signers.filter((signer) => !placed.has(signer.recipientId));
  if (onPage.length === 0 && withoutFields.length === 0) return;
  // Fields on the signature page are laid out in blocks, one per recipient, in the signers' order.
  const recipients = [...new Set([...input.signers.map((signer) => signer.recipientId), ...onPage.map((field) => field.recipientId)])];
  const writer = createWriter(pdfDoc, fonts);
  writer.heading("Signatures");
  for (const recipientId of recipients) {
    const fields = onPage.filter((field) => field.recipientId === recipientId);
    const signer = input.signers.find((item) => item.recipientId === recipientId);
    if (fields.length === 0 && !withoutFields.includes(signer!)) continue;
    writer.line(signer ? `${signer.name} <${signer.email}>` : `Recipient ${recipientId}`, { bold: true });
    if (signer) writer.line(`${signer.role === "approver" ? "Approved" : "Signed"} electronically at ${signer.signedAt}`, { small: true });
    for (const field of fields) {
      const width = Math.min(field.width, pageSize[0] - 2 * margin);
      const height = Math.min(field.height, 120);
      const { page, y } = writer.reserve(height + 6);
      page.drawRectangle({ x: margin, y: y - height, width, height, borderColor: grey, borderWidth: 0.5 });
      await drawField(pdfDoc, page, fonts, { ...field, width, height }, margin, y - height);
    }
    if (fields.length === 0) writer.line(`${signer!.role === "approver" ? "Approved" : "Signed"} by ${signer!.name}`, { script: true });
    writer.gap(14);
  }
}

function appendCertificateOfCompletion(pdfDoc: PDFDocument, fonts: SealFonts, input: SealInput, facts: { originalSha256: string; sealedAt: string }): number {
  const writer = createWriter(pdfDoc, fonts);
  const firstPage = pdfDoc.getPageCount() - 1;
  writer.heading("Certificate of completion");
  writer.pair("Document", input.title);
  writer.pair("Signature request", input.requestId);
  writer.pair("Completed", input.completedAt);
  writer.pair("Sealed", facts.sealedAt);
  writer.pair("SHA-256 before signing", facts.originalSha256, { mono: true });
  writer.line(
    "This file carries a PAdES signature of the service. Its SHA-256, taken after sealing, is signed with the service key and " +
      "recorded in the service's transparency log: check it on the verification page or with `strongroom verify`.",
    { small: true },
  );
  writer.gap(10);
  writer.heading(`Signers (${input.signers.length})`, { small: true });
  for (const signer of input.signers) {
    writer.line(`${signer.name} <${signer.email}> (${signer.role})`, { bold: true });
    writer.line(`${signer.role === "approver" ? "Approved" : "Signed"} at ${signer.signedAt} from ${signer.ip}`, { small: true });
    writer.line(`Browser: ${signer.userAgent}`, { small: true });
    writer.gap(6);
  }
  writer.gap(6);
  writer.heading(`Evidence trail (${input.evidence.length} events)`, { small: true });
  for (const step of input.evidence) {
    const who = step.recipientName ? ` ${step.recipientName}` : "";
    const where = step.ip ? ` from ${step.ip}` : "";
    writer.line(`${step.at}  ${step.event}${who}${where}`, { small: true });
    if (step.userAgent) writer.line(`    ${step.userAgent}`, { small: true, grey: true });
  }
  return firstPage;
}

type LineStyle = { bold?: boolean; small?: boolean; mono?: boolean; script?: boolean; grey?: boolean };

// A top-down text cursor that starts a new A4 page when the current one is full.
function createWriter(pdfDoc: PDFDocument, fonts: SealFonts) {
  let page = pdfDoc.addPage(pageSize);
  let y = pageSize[1] - margin;
  const width = pageSize[0] - 2 * margin;

  function reserve(height: number): { page: PDFPage; y: number } {
    if (y - height < margin) {
      page = pdfDoc.addPage(pageSize);
      y = pageSize[1] - margin;
    }
    const at = { page, y };
    y -= height;
    return at;
  }

  function line(text: string, style: LineStyle = {}, indent = 0): void {
    const font = style.mono ? fonts.mono : style.script ? fonts.script : style.bold ? fonts.bold : fonts.regular;
    const size = style.small ? 8.5 : style.script ? 16 : 10.5;
    for (const part of wrap(font, printable(font, text), size, width - indent)) {
      const at = reserve(size * 1.45);
      at.page.drawText(part, { x: margin + indent, y: at.y - size, size, font, color: style.grey ? grey : rgb(0, 0, 0) });
    }
  }

  return {
    reserve,
    line,
    heading(text: string, style: { small?: boolean } = {}) {
      const size = style.small ? 12 : 18;
      const at = reserve(size * 1.8);
      at.page.drawText(printable(fonts.bold, text), { x: margin, y: at.y - size, size, font: fonts.bold, color: ink });
    },
    pair(label: string, value: string, style: LineStyle = {}) {
      line(label, { small: true, grey: true });
      line(value, { ...style, small: style.mono ? true : style.small });
    },
    gap(height: number) {
      y -= height;
    },
  };
}

function wrap(font: PDFFont, text: string, size: number, width: number): string[] {
  const lines: string[] = [];
  let current = "";
  for (const word of text.split(" ")) {
    const candidate = current ? `${current} ${word}` : word;
    if (font.widthOfTextAtSize(candidate, size) <= width) {
      current = candidate;
      continue;
    }
    if (current) lines.push(current);
    current = word;
    // A single word wider than the line (a hash, a long user agent) is cut by characters.
    while (font.widthOfTextAtSize(current, size) > width) {
      let cut = current.length - 1;
      while (cut > 1 && font.widthOfTextAtSize(current.slice(0, cut), size) > width) cut--;
      lines.push(current.slice(0, cut));
      current = current.slice(cut);
    }
  }
  lines.push(current);
  return lines;
}

function fittedSize(font: PDFFont, text: string, width: number, height: number): number {
  let size = Math.max(4, Math.min(height * 0.75, 24));
  while (size > 4 && font.widthOfTextAtSize(text, size) > width - 2) size -= 0.5;
  return size;
}

/** The text with control characters removed and characters the font has no glyph for replaced by "?". */
export function printable(font: PDFFont, text: string): string {
  let out = "";
  for (const char of text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ")) out += hasGlyph(font, char) ? char : "?";
  return out;
}

function pngOf(dataUrl: string): Uint8Array {
  const match = /^data:image\/png;base64,([A-Za-z0-9+/]+={0,2})$/.exec(dataUrl);
  if (!match) throw new AppError("seal_input_invalid", "a drawn signature must be a PNG data: URL");
  return Buffer.from(match[1]!, "base64");
}
