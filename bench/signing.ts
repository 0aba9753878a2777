// Seal and verification: time from the last signature (the call to sealSignedDocument) to the sealed
// final PDF for a 10-page and a 200-page PDF (targets < 1 s and < 5 s; reference: pdf-lib loading and
// saving the same PDF), and verification of a 50 MB sealed PDF as POST /v1/verify does it (stream
// hashed and scanned, seal looked up, proof built) next to `sha256sum` of the same file, same run.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PDFDocument } from "pdf-lib";
import { sealSignedDocument } from "../src/modules/seals/seal-signed-document.ts";
import { verifySealedPdfStream } from "../src/modules/seals/verify-sealed-pdf.ts";
import { makePdf, sealInputFor } from "../test/support/pdfs.ts";
import { compareToReference, median, type BenchResult } from "./support/bench-result.ts";
import { openUnsealedDatabase } from "./support/unsealed-database.ts";

const runs = { small: 9, large: 5, verify: 5 };
const verifyBytes = 50 * 1024 * 1024;

export default async function runSigningBench(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "sr-bench-signing-"));
  const { database, vault } = await openUnsealedDatabase(join(dir, "strongroom.db"));
  try {
    const deps = { db: database.db, vault };
    // Warm up: key loading, certificate creation, JIT.
    await sealSignedDocument(deps, sealInputFor(await makePdf(2)));

    const results: BenchResult[] = [];
    for (const [pages, count, targetMs] of [[10, runs.small, 1000], [200, runs.large, 5000]] as const) {
      const original = await makePdf(pages);
      const sealMs = await medianOf(count, async () => {
        await sealSignedDocument(deps, sealInputFor(original));
      });
      const roundTripMs = await medianOf(count, async () => {
        await (await PDFDocument.load(original)).save({ useObjectStreams: false });
      });
      results.push(compareToReference({
        name: `seal_${pages}_page_pdf_median`,
        value: sealMs,
        unit: "ms",
        reference: `pdf-lib load + save of the same ${pages}-page PDF`,
        referenceValue: roundTripMs,
        target: `< ${targetMs} ms from last signature to sealed final PDF`,
        meets: (value) => value < targetMs,
      }));
    }

    // A 50 MB sealed PDF: pages plus an attached 50 MB file, sealed like any other.
    const big = await PDFDocument.load(await makePdf(20));
    // Incompressible, so the file really is 50 MiB.
    const filler = randomBytes(verifyBytes);
    await big.attach(filler, "annex.bin", { mimeType: "application/octet-stream" });
    const { finalPdf } = await sealSignedDocument(deps, sealInputFor(await big.save()));
    const file = join(dir, "sealed-50mb.pdf");
    await writeFile(file, finalPdf);
    const verifyMs = await medianOf(runs.verify, async () => {
      const answer = await verifySealedPdfStream(deps, createReadStream(file, { highWaterMark: 1024 * 1024 }), 100 * 1024 * 1024);
      if (answer.status !== "sealed") throw new Error(`the sealed PDF verified as ${answer.status}`);
    });
    const sha256sumMs = await medianOf(runs.verify, async () => {
      await promisify(execFile)("sha256sum", [file]);
    });
    results.push(compareToReference({
      name: `verify_${Math.floor(finalPdf.length / 1024 / 1024)}_mib_pdf_median`,
      value: verifyMs,
      unit: "ms",
      reference: "sha256sum of the same file (same run)",
      referenceValue: sha256sumMs,
      target: "<= 2x sha256sum (hash, signature scan, lookup, inclusion proof)",
      meets: (_value, ratio) => ratio <= 2,
    }));
    return results;
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function medianOf(count: number, work: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return median(times);
}
