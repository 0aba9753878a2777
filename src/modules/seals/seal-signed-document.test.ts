// Proves the seal on SQLite and PostgreSQL: the final PDF passes poppler's pdfsig as signed over the
// whole file, one flipped byte makes pdfsig and our own check report it modified, the seal record's
// signature and log entry verify, the record is stored only sealed, and bad input is refused.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { PDFDocument } from "pdf-lib";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../../test/support/databases.ts";
import { makePdf, pdfsig, pdfText, sealInputFor } from "../../../test/support/pdfs.ts";
import { createVault, type Vault } from "../../vault/vault.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { createSecurityEvents, type SecurityEvent } from "../monitoring/security-events.ts";
import { readEmbeddedSignature, verifyPadesSignature } from "./pades-signature.ts";
import { sealLeaf, verifySealRecordSignature } from "./seal-record.ts";
import { sealSignedDocument } from "./seal-signed-document.ts";
import { auditTransparencyLog, latestTreeHead, proveInclusion, verifyInclusionProof, verifyTreeHead } from "./transparency-log.ts";

for (const kind of databaseKinds) {
  describe(`sealSignedDocument (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let original: Uint8Array;
    const deps = () => ({ db: test.database.db, vault });

    before(async () => {
      test = await openTestDatabase(kind);
      vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      original = await makePdf(3);
    });
    after(() => test.cleanup());

    it("makes a final PDF that pdfsig reports signed, valid and covering the whole file", async () => {
      const input = sealInputFor(original);
      const { finalPdf, seal } = await sealSignedDocument(deps(), input);
      const report = await pdfsig(finalPdf);
      assert.ok(report.valid, report.output);
      assert.ok(report.wholeDocument, report.output);
      assert.match(report.output, /ETSI\.CAdES\.detached/);
      assert.equal(seal.sha256, createHash("sha256").update(finalPdf).digest("hex"));
      assert.equal(seal.originalSha256, createHash("sha256").update(original).digest("hex"));
      assert.deepEqual(seal.signers.map((signer) => signer.email), ["alice@example.test", "bob@example.test", "carol@example.test"]);
      // Original pages, a signature page (Bob's page -1 field, Carol without fields) and the certificate of completion.
      const final = await PDFDocument.load(finalPdf);
      assert.equal(final.getPageCount(), 3 + 2);
      const text = await pdfText(finalPdf);
      for (const expected of ["Certificate of completion", "Supply agreement", input.requestId, seal.originalSha256, "Alice Archer <alice@example.test>",
        "from 203.0.113.7", "Mozilla/5.0 (Macintosh)", "Carol Checker", "pin_ok Alice Archer from 203.0.113.7", "Signatures", "2031-05-06", "Approved by Carol Checker"]) {
        assert.ok(text.includes(expected), `the final PDF shows "${expected}"`);
      }
      const certificates = [new Uint8Array((await vault.documentSigningKey.identity()).certificateChain[0]!)];
      const own = verifyPadesSignature(finalPdf, certificates);
      assert.deepEqual([own.valid, own.valid && own.coversWholeFile], [true, true]);
    });

    it("shows names and titles in Greek, Cyrillic and Polish as written; characters without a glyph become \"?\", never a blank", async () => {
      const base = sealInputFor(original);
      const input = sealInputFor(original, {
        title: "Договор поставки",
        signers: base.signers.map((signer, index) => ({ ...signer, name: ["Ζωή Παπαδοπούλου", "Łukasz Żółć", "王小明"][index]! })),
        fields: base.fields.map((field) => (field.recipientId === "r2" && field.kind === "signature" ? { ...field, value: "Дмитрий Иванов" } : field)),
      });
      const { finalPdf } = await sealSignedDocument(deps(), input);
      const text = await pdfText(finalPdf);
      for (const expected of ["Договор поставки", "Ζωή Παπαδοπούλου", "Łukasz Żółć", "Дмитрий Иванов", "???"]) {
        assert.ok(text.includes(expected), `the final PDF shows "${expected}"`);
      }
      assert.ok((await pdfsig(finalPdf)).valid);
    });

    it("reports one flipped byte inside the signed range as modified (pdfsig and our check)", async () => {
      const { finalPdf } = await sealSignedDocument(deps(), sealInputFor(original));
      const tampered = Buffer.from(finalPdf);
      tampered[Math.floor(readEmbeddedSignature(finalPdf)!.byteRange[1] / 2)]! ^= 0x01; // inside the first signed range
      const report = await pdfsig(tampered);
      assert.ok(!report.valid, report.output);
      assert.ok(report.digestMismatch, report.output);
      const certificates = [new Uint8Array((await vault.documentSigningKey.identity()).certificateChain[0]!)];
      assert.deepEqual(verifyPadesSignature(tampered, certificates), { valid: false, reason: "digest_mismatch" });
      // A changed signature value (inside /Contents, outside the signed range) fails too.
      const embedded = readEmbeddedSignature(finalPdf)!;
      const forgedValue = Buffer.from(finalPdf);
      const hexAt = embedded.byteRange[1] + 1 + (embedded.cms.length - 8) * 2;
      forgedValue[hexAt] = forgedValue[hexAt] === 0x30 ? 0x31 : 0x30;
      assert.deepEqual(verifyPadesSignature(forgedValue, certificates), { valid: false, reason: "bad_signature" });
      assert.ok(!(await pdfsig(forgedValue)).valid);
      // Bytes added after the signature (an incremental update) leave it valid but no longer covering the file.
      const appended = Buffer.concat([finalPdf, Buffer.from("\n% added later\n")]);
      const appendedReport = await pdfsig(appended);
      assert.ok(!appendedReport.wholeDocument, appendedReport.output);
      const own = verifyPadesSignature(appended, certificates);
      assert.deepEqual([own.valid, own.valid && own.coversWholeFile], [true, false]);
      // A signature by any other certificate is not ours.
      const stranger = (await createVaultForOtherInstallation()).certificate;
      assert.deepEqual(verifyPadesSignature(finalPdf, [stranger]), { valid: false, reason: "untrusted_certificate" });
      assert.deepEqual(verifyPadesSignature(Buffer.from(original), certificates), { valid: false, reason: "no_signature" });
    });

    it("signs the seal record with the service key, logs it, and stores it only sealed", async () => {
      const input = sealInputFor(original);
      const { seal } = await sealSignedDocument(deps(), input);
      const publicKeys = await vault.serviceKey.publicKeys();
      assert.ok(verifySealRecordSignature(seal, publicKeys));
      assert.ok(!verifySealRecordSignature({ ...seal, requestId: "req-other" }, publicKeys));
      assert.ok(!verifySealRecordSignature({ ...seal, logIndex: seal.logIndex + 1 }, publicKeys));
      const head = (await latestTreeHead(test.database.db))!;
      assert.ok(verifyTreeHead(head, publicKeys));
      const proof = await proveInclusion(test.database.db, seal.logIndex, head.treeSize);
      assert.ok(verifyInclusionProof(sealLeaf(seal), proof, head));
      assert.ok(!verifyInclusionProof(sealLeaf({ ...seal, sealedAt: "2020-01-01T00:00:00.000Z" }), proof, head));
      const row = await test.database.db.selectFrom("seals").selectAll().where("tenant_id", "=", input.tenantId).where("request_id", "=", input.requestId).executeTakeFirstOrThrow();
      assert.equal(row.sha256, seal.sha256);
      assert.equal(Buffer.from(row.record_ciphertext).includes("alice@example.test"), false);
      assert.equal(Buffer.from(row.record_ciphertext).includes("Alice Archer"), false);
    });

    it("gives concurrent seals distinct, gap-free log positions and a log that audits clean", async () => {
      const results = await Promise.all(Array.from({ length: 4 }, () => sealSignedDocument(deps(), sealInputFor(original))));
      const indices = results.map((result) => result.seal.logIndex).sort((a, b) => a - b);
      assert.equal(new Set(indices).size, 4);
      const audit = await auditTransparencyLog(deps(), async (logIndex) => {
        const found = results.find((result) => result.seal.logIndex === logIndex);
        return found ? sealLeaf(found.seal) : (await import("./verify-sealed-pdf.ts")).storedSealLeaf(deps(), logIndex);
      });
      assert.deepEqual(audit.problems, []);
    });

    it("refuses a second seal of the same request and bad input with clear codes", async () => {
      const input = sealInputFor(original);
      await sealSignedDocument(deps(), input);
      await assert.rejects(sealSignedDocument(deps(), input), { code: "conflict" });
      await assert.rejects(sealSignedDocument(deps(), sealInputFor(Buffer.from("not a pdf at all"))), { code: "seal_input_invalid" });
      const offPage = sealInputFor(original, { fields: [{ recipientId: "r1", kind: "text", page: 7, x: 1, y: 1, width: 10, height: 10, value: "x" }] });
      await assert.rejects(sealSignedDocument(deps(), offPage), { code: "seal_input_invalid" });
      const badImage = sealInputFor(original, { fields: [{ recipientId: "r1", kind: "signature", page: 0, x: 1, y: 1, width: 10, height: 10, value: "data:image/png;base64,AAAA" }] });
      await assert.rejects(sealSignedDocument(deps(), badImage), { code: "seal_input_invalid" });
      const badBox = sealInputFor(original, { fields: [{ recipientId: "r1", kind: "text", page: 0, x: Number.NaN, y: 1, width: 10, height: 10, value: "x" }] });
      await assert.rejects(sealSignedDocument(deps(), badBox), { code: "seal_input_invalid" });
      await assert.rejects(sealSignedDocument(deps(), sealInputFor(original, { signers: [] })), { code: "seal_input_invalid" });
      const rows = await test.database.db.selectFrom("seals").select("request_id").where("request_id", "=", offPage.requestId).execute();
      assert.equal(rows.length, 0);
    });

    it("treats damaged PDFs (cut short anywhere, bytes overwritten) as bad input, never as a server error", async () => {
      const bytes = Buffer.from(original);
      const damaged = [
        ...[0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.99].map((share) => bytes.subarray(0, Math.floor(bytes.length * share))),
        ...[0.1, 0.5, 0.9].map((share) => {
          const copy = Buffer.from(bytes);
          copy.fill(0x41, Math.floor(copy.length * share), Math.floor(copy.length * share) + 200);
          return copy;
        }),
      ];
      for (const pdf of damaged) {
        await sealSignedDocument(deps(), sealInputFor(pdf)).then(
          (result) => assert.ok(result.finalPdf.length > 0),
          (error: { code?: string }) => assert.equal(error.code, "seal_input_invalid", String(error)),
        );
      }
    });

    it("raises a seal_failure security event when a seal fails", async () => {
      const events = createSecurityEvents();
      const seen: SecurityEvent[] = [];
      events.subscribe((event) => {
        seen.push(event);
      });
      const input = sealInputFor(Buffer.from("%PDF-1.7 truncated"));
      await assert.rejects(sealSignedDocument({ ...deps(), events }, input), { code: "seal_input_invalid" });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(seen.map((event) => [event.type, event.tenantId, event.details]), [["seal_failure", input.tenantId, { requestId: input.requestId, error: "seal_input_invalid" }]]);
      await sealSignedDocument({ ...deps(), events }, sealInputFor(original));
      assert.equal(seen.length, 1, "a good seal raises nothing");
    });

    it("draws text the standard fonts cannot show as '?' instead of failing", async () => {
      const input = sealInputFor(original, { title: "Договор 合同 ✓", fields: [{ recipientId: "r1", kind: "text", page: 0, x: 50, y: 50, width: 200, height: 20, value: "名前 ✍" }] });
      const { finalPdf } = await sealSignedDocument(deps(), input);
      assert.ok((await pdfsig(finalPdf)).valid);
    });
  });
}

async function createVaultForOtherInstallation(): Promise<{ certificate: Uint8Array }> {
  const other = await openTestDatabase("sqlite");
  try {
    const vault = createVault(createVaultRepository(other.database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    return { certificate: new Uint8Array((await vault.documentSigningKey.identity()).certificateChain[0]!) };
  } finally {
    await other.cleanup();
  }
}
