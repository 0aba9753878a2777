// Proves the streaming signature scanner: it finds the CMS of a sealed PDF however the bytes are cut
// into chunks (markers and hex strings split across chunk borders), ignores /Contents references and
// over-long strings, and keeps a bounded number of candidates.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openTestDatabase, type TestDatabase } from "../../../test/support/databases.ts";
import { makePdf, sealInputFor } from "../../../test/support/pdfs.ts";
import { createVault } from "../../vault/vault.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { verifyInclusion } from "./merkle-tree.ts";
import { readEmbeddedSignature } from "./pades-signature.ts";
import { sealSignedDocument } from "./seal-signed-document.ts";
import { createSignatureScanner, storedSealLeaf, verifySealedHash } from "./verify-sealed-pdf.ts";

describe("signature scanner and hash lookup", () => {
  let test: TestDatabase;
  let finalPdf: Buffer;
  let cms: Buffer;
  let vault: ReturnType<typeof createVault>;

  before(async () => {
    test = await openTestDatabase("sqlite");
    vault = createVault(createVaultRepository(test.database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    ({ finalPdf } = await sealSignedDocument({ db: test.database.db, vault }, sealInputFor(await makePdf(2))));
    cms = readEmbeddedSignature(finalPdf)!.cms;
  });
  after(() => test.cleanup());

  const scan = (bytes: Buffer, chunkSize: number) => {
    const scanner = createSignatureScanner();
    for (let offset = 0; offset < bytes.length; offset += chunkSize) scanner.push(bytes.subarray(offset, offset + chunkSize));
    return scanner.signatures();
  };

  it("finds the embedded CMS whatever the chunk size", () => {
    const where = finalPdf.indexOf("/Contents <");
    for (const size of [1, 2, 3, 5, 7, 10, 11, 64, 1000, 4096, 65_536, finalPdf.length]) {
      const found = scan(finalPdf, size);
      assert.ok(found.some((candidate) => candidate.equals(cms)), `chunk size ${size}`);
    }
    // Cut exactly inside the marker, between marker and "<", and inside the hex.
    for (const cut of [where + 3, where + 9, where + 10, where + 11, where + 500]) {
      const scanner = createSignatureScanner();
      scanner.push(finalPdf.subarray(0, cut));
      scanner.push(finalPdf.subarray(cut));
      assert.ok(scanner.signatures().some((candidate) => candidate.equals(cms)), `cut at ${cut - where}`);
    }
  });

  it("ignores references, non-DER strings and strings longer than the signature room, and keeps at most 16", () => {
    const noise = Buffer.from(`/Contents 5 0 R /Contents <FEFF0041> /Contents <${"30".repeat(40_000)}> /Contents <3003020101>`);
    assert.deepEqual(scan(noise, 7).map((der) => der.toString("hex")), ["3003020101"]);
    const many = Buffer.from(Array.from({ length: 40 }, () => "/Contents <3003020101>").join("\n"));
    assert.equal(scan(many, 13).length, 16);
  });

  it("looks a seal up by SHA-256 in any letter case, and refuses a malformed hash", async () => {
    const sha256 = createHash("sha256").update(finalPdf).digest("hex");
    assert.equal((await verifySealedHash({ db: test.database.db, vault }, sha256.toUpperCase())).status, "sealed");
    await assert.rejects(verifySealedHash({ db: test.database.db, vault }, "12"), { code: "validation_failed" });
  });

  it("still answers sealed, with a proof but no names, after the company's keys are destroyed", async () => {
    const sha256 = createHash("sha256").update(finalPdf).digest("hex");
    await vault.tenantKeys.destroy(sealInputFor(Buffer.alloc(0)).tenantId);
    const answer = await verifySealedHash({ db: test.database.db, vault }, sha256);
    assert.equal(answer.status, "sealed");
    if (answer.status !== "sealed") return;
    assert.deepEqual([answer.seal, answer.erased, answer.sealSignatureValid], [null, true, false]);
    const { logIndex, treeSize, leafHash, path } = answer.inclusionProof;
    assert.equal(await storedSealLeaf({ db: test.database.db, vault }, logIndex), "erased");
    assert.ok(verifyInclusion(logIndex, treeSize, Buffer.from(leafHash, "hex"), path.map((hash) => Buffer.from(hash, "hex")), Buffer.from(answer.treeHead.rootHash, "hex")));
  });
});
