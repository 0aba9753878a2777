// PDFs for the seal tests and benchmark, made with pdf-lib, and `pdfsig` (poppler-utils) as the
// independent judge of the embedded PAdES signature.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PDFDocument, StandardFonts } from "pdf-lib";
import type { SealInput } from "../../src/modules/seals/seal-types.ts";

export async function makePdf(pages: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++) {
    const page = doc.addPage([595.28, 841.89]);
    page.drawText(`Agreement, page ${i + 1} of ${pages}`, { x: 50, y: 790, size: 14, font });
    for (let line = 0; line < 40; line++) page.drawText(`Clause ${i + 1}.${line + 1}: the parties agree to the terms set out here.`, { x: 50, y: 760 - line * 17, size: 10, font });
  }
  return doc.save();
}

// A 1×1 transparent PNG, as a drawn signature would arrive.
export const drawnSignaturePng = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

export function sealInputFor(originalPdf: Uint8Array, overrides: Partial<SealInput> = {}): SealInput {
  const at = "2031-05-06T07:08:09.000Z";
  return {
    tenantId: "tenant-seal",
    requestId: `req-${randomUUID()}`,
    title: "Supply agreement",
    originalPdf,
    fields: [
      { recipientId: "r1", kind: "signature", page: 0, x: 60, y: 80, width: 180, height: 50, value: drawnSignaturePng },
      { recipientId: "r1", kind: "date", page: 0, x: 300, y: 80, width: 120, height: 20, value: "2031-05-06" },
      { recipientId: "r2", kind: "signature", page: -1, x: 0, y: 0, width: 200, height: 50, value: "Bob Builder" },
      { recipientId: "r2", kind: "checkbox", page: 0, x: 60, y: 40, width: 12, height: 12, value: "true" },
    ],
    signers: [
      { recipientId: "r1", name: "Alice Archer", email: "alice@example.test", role: "signer", signedAt: at, ip: "203.0.113.7", userAgent: "Mozilla/5.0 (X11; Linux)" },
      { recipientId: "r2", name: "Bob Builder", email: "bob@example.test", role: "signer", signedAt: at, ip: "198.51.100.2", userAgent: "Mozilla/5.0 (Macintosh)" },
      { recipientId: "r3", name: "Carol Checker", email: "carol@example.test", role: "approver", signedAt: at, ip: "192.0.2.9", userAgent: "curl/8" },
    ],
    evidence: [
      { at, event: "sent", recipientName: null, ip: null, userAgent: null },
      { at, event: "pin_ok", recipientName: "Alice Archer", ip: "203.0.113.7", userAgent: "Mozilla/5.0 (X11; Linux)" },
      { at, event: "signed", recipientName: "Alice Archer", ip: "203.0.113.7", userAgent: "Mozilla/5.0 (X11; Linux)" },
    ],
    completedAt: at,
    ...overrides,
  };
}

export type PdfsigReport = { output: string; valid: boolean; wholeDocument: boolean; digestMismatch: boolean };

/** Runs poppler's pdfsig on the bytes. */
export async function pdfsig(pdf: Uint8Array): Promise<PdfsigReport> {
  const directory = await mkdtemp(join(tmpdir(), "sr-pdfsig-"));
  try {
    const file = join(directory, "document.pdf");
    await writeFile(file, pdf);
    const output = await promisify(execFile)("pdfsig", [file]).then(({ stdout }) => stdout, (error: { stdout?: string }) => error.stdout ?? "");
    return {
      output,
      valid: /Signature Validation: Signature is Valid\./.test(output),
      wholeDocument: /Total document signed/.test(output),
      digestMismatch: /Digest Mismatch/.test(output),
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** The text of a PDF as poppler's pdftotext reads it. */
export async function pdfText(pdf: Uint8Array): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "sr-pdftext-"));
  try {
    const file = join(directory, "document.pdf");
    await writeFile(file, pdf);
    return (await promisify(execFile)("pdftotext", ["-layout", file, "-"])).stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
