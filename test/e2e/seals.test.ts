// End to end, on SQLite and PostgreSQL: a sealed PDF is reported sealed by POST /v1/verify (by
// SHA-256 and by the file streamed), with a seal, inclusion proof and tree head that verify under the
// keys of GET /v1/verify/keys; one changed byte is "modified", a PDF never sealed is "not_sealed";
// the log's head and consistency proofs verify; bad input gets clear 4xx codes. The offline CLI
// (`strongroom verify`, run as a real process with the keys from `strongroom verify-key export`)
// agrees: exit 0 valid, 1 modified or not sealed, 2 usage.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runVerifyKeyCommand } from "../../src/cli/verify-commands.ts";
import { loadConfig } from "../../src/config/config.ts";
import { readEmbeddedSignature } from "../../src/modules/seals/pdf-signature-bytes.ts";
import { sealLeaf } from "../../src/modules/seals/seal-record.ts";
import { sealSignedDocument } from "../../src/modules/seals/seal-signed-document.ts";
import type { SealRecord } from "../../src/modules/seals/seal-types.ts";
import { verifyConsistencyProof, verifyInclusionProof, verifyTreeHead } from "../../src/modules/seals/transparency-log.ts";
import { databaseKinds, skipReason } from "../support/databases.ts";
import { httpsRequest, postJson } from "../support/https-request.ts";
import { makePdf, sealInputFor } from "../support/pdfs.ts";
import { runCli } from "../support/server-process.ts";
import { startTestApp, type TestApp } from "../support/signed-in-app.ts";

const maxPdfBytes = 2 * 1024 * 1024;

for (const kind of databaseKinds) {
  describe(`seal verification routes and CLI (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let original: Uint8Array;
    let finalPdf: Buffer;
    let seal: SealRecord;
    let tampered: Buffer;
    const post = (path: string, body: unknown) => postJson(`${t.base}${path}`, t.ca, body);
    const postPdf = (bytes: Buffer, headers: Record<string, string> = {}) =>
      httpsRequest(`${t.base}/v1/verify`, { ca: t.ca, method: "POST", headers: { "content-type": "application/pdf", ...headers }, body: bytes });
    const get = (path: string) => httpsRequest(`${t.base}${path}`, { ca: t.ca });

    before(async () => {
      t = await startTestApp(kind, async () => ({ verify: { maxPdfBytes } }));
      original = await makePdf(4);
      // A few seals before and after ours, so proofs are not trivial.
      for (let i = 0; i < 3; i++) await sealSignedDocument({ db: t.test.database.db, vault: t.vault }, sealInputFor(original));
      ({ finalPdf, seal } = await sealSignedDocument({ db: t.test.database.db, vault: t.vault }, sealInputFor(original)));
      for (let i = 0; i < 2; i++) await sealSignedDocument({ db: t.test.database.db, vault: t.vault }, sealInputFor(original));
      tampered = Buffer.from(finalPdf);
      tampered[Math.floor(readEmbeddedSignature(finalPdf)!.byteRange[1] / 2)]! ^= 0x20; // inside the first signed range
    });
    after(() => t?.close());

    it("answers sealed for the hash, with who signed, and a seal, proof and tree head that verify under the published keys", async () => {
      const answer = await post("/v1/verify", { sha256: seal.sha256.toUpperCase() });
      assert.equal(answer.status, 200, answer.text);
      const body = answer.json();
      assert.equal(body.status, "sealed");
      assert.deepEqual(body.seal, seal);
      assert.deepEqual(body.seal.signers.map((signer: { name: string }) => signer.name), ["Alice Archer", "Bob Builder", "Carol Checker"]);
      assert.equal(body.sealSignatureValid, true);
      const keys = (await get("/v1/verify/keys")).json();
      assert.equal(keys.signingCertificates.length, 1);
      assert.ok(verifyTreeHead(body.treeHead, keys.serviceKeys));
      assert.equal(body.treeHead.treeSize, 6);
      assert.ok(verifyInclusionProof(sealLeaf(body.seal), body.inclusionProof, body.treeHead));
    });

    it("takes the PDF itself: sealed as is, modified after one changed byte, not sealed when never sealed here", async () => {
      const sealed = await postPdf(finalPdf);
      assert.deepEqual([sealed.status, sealed.json().status, sealed.json().seal.requestId], [200, "sealed", seal.requestId]);
      const modified = await postPdf(tampered);
      assert.equal(modified.status, 200, modified.text);
      assert.equal(modified.json().status, "modified");
      assert.equal(modified.json().sha256, createHash("sha256").update(tampered).digest("hex"));
      assert.equal(modified.json().seal.sha256, seal.sha256, "names the seal the file was changed from");
      const never = await postPdf(Buffer.from(original));
      assert.deepEqual([never.status, never.json()], [200, { status: "not_sealed", sha256: createHash("sha256").update(original).digest("hex") }]);
      // Larger than the server's JSON body limit (64 KiB here) but within the PDF limit: streamed, accepted.
      const large = Buffer.concat([Buffer.from(original), Buffer.alloc(maxPdfBytes - original.length - 10, 0x20)]);
      const largeAnswer = await postPdf(large);
      assert.deepEqual([largeAnswer.status, largeAnswer.json().status], [200, "not_sealed"], largeAnswer.text);
      const unknownHash = await post("/v1/verify", { sha256: "ab".repeat(32) });
      assert.deepEqual(unknownHash.json(), { status: "not_sealed", sha256: "ab".repeat(32) });
    });

    it("refuses bad input with clear codes and never a 500", async () => {
      for (const body of [{}, { sha256: "xyz" }, { sha256: "ab".repeat(32), extra: 1 }, { sha256: 5 }]) {
        const answer = await post("/v1/verify", body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(typeof answer.json().error, "string");
      }
      const tooLarge = await postPdf(Buffer.alloc(maxPdfBytes + 1, 0x25));
      assert.deepEqual([tooLarge.status, tooLarge.json().error], [413, "payload_too_large"]);
      const empty = await postPdf(Buffer.alloc(0));
      assert.equal(empty.status, 400, empty.text);
      const text = await httpsRequest(`${t.base}/v1/verify`, { ca: t.ca, method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
      assert.equal(text.status, 415, text.text);
    });

    it("publishes the log's signed head and consistency proofs between heads", async () => {
      const keys = (await get("/v1/verify/keys")).json();
      const head = (await get("/v1/transparency/head")).json();
      assert.ok(verifyTreeHead(head, keys.serviceKeys));
      for (const from of [1, 2, 3, 4, 5, 6]) {
        const answer = await get(`/v1/transparency/consistency?from=${from}&to=${head.treeSize}`);
        assert.equal(answer.status, 200, answer.text);
        const { from: older, to: newer, proof } = answer.json();
        assert.ok(verifyTreeHead(older, keys.serviceKeys) && verifyTreeHead(newer, keys.serviceKeys));
        assert.ok(verifyConsistencyProof(older, newer, proof), `${from} → ${head.treeSize}`);
      }
      assert.equal((await get(`/v1/transparency/consistency?from=5&to=2`)).status, 400);
      assert.equal((await get(`/v1/transparency/consistency?from=0&to=2`)).status, 400);
      assert.equal((await get(`/v1/transparency/consistency?from=abc&to=2`)).status, 400);
      assert.equal((await get(`/v1/transparency/consistency?from=1&to=99`)).status, 404);
    });

    it("offline CLI: valid with the seal, modified and never-sealed PDFs invalid, usage errors exit 2", async () => {
      const keysJson = join(t.dir, "keys.json");
      await writeFile(keysJson, (await get("/v1/verify/keys")).text);
      const sealFile = join(t.dir, "seal.json");
      await writeFile(sealFile, (await post("/v1/verify", { sha256: seal.sha256 })).text);
      const files = { final: join(t.dir, "final.pdf"), tampered: join(t.dir, "tampered.pdf"), original: join(t.dir, "original.pdf") };
      await writeFile(files.final, finalPdf);
      await writeFile(files.tampered, tampered);
      await writeFile(files.original, original);

      // The keys an operator exports on the server, with no server running.
      const config = loadConfig({ overrides: t.test.config.kind === "sqlite"
        ? { dataDir: t.dir, database: { kind: "sqlite", path: t.test.config.path } }
        : { dataDir: t.dir, database: { kind: "postgres", url: t.test.config.url } } });
      const exported: string[] = [];
      assert.equal(await runVerifyKeyCommand("export", config, { out: (text) => exported.push(text), err: () => {} }), 0);
      const keysPem = join(t.dir, "keys.pem");
      await writeFile(keysPem, exported.join("\n"));

      const valid = await runCli(["verify", files.final, "--public-key", keysPem, "--seal", sealFile]);
      assert.equal(valid.code, 0, valid.stdout + valid.stderr);
      assert.match(valid.stdout, /VALID/);
      assert.match(valid.stdout, /ok +transparency log: entry \d+ of a signed tree of 6/);
      const json = await runCli(["verify", files.final, "--public-key", keysJson, "--json"]);
      assert.equal(json.code, 0, json.stdout + json.stderr);
      assert.equal(JSON.parse(json.stdout).valid, true);

      const modified = await runCli(["verify", files.tampered, "--public-key", keysPem, "--seal", sealFile]);
      assert.equal(modified.code, 1, modified.stdout);
      assert.match(modified.stdout, /FAIL {2}PAdES signature: the signed bytes were changed/);
      assert.match(modified.stdout, /FAIL {2}seal names this file/);
      const never = await runCli(["verify", files.original, "--public-key", keysPem]);
      assert.equal(never.code, 1);
      assert.match(never.stdout, /carries no PDF signature/);
      const otherSeal = join(t.dir, "forged-seal.json");
      await writeFile(otherSeal, JSON.stringify({ ...seal, signers: [{ name: "Mallory", email: "m@example.test", signedAt: seal.sealedAt }] }));
      const forged = await runCli(["verify", files.final, "--public-key", keysPem, "--seal", otherSeal]);
      assert.equal(forged.code, 1);
      assert.match(forged.stdout, /FAIL {2}seal signature/);

      assert.equal((await runCli(["verify", files.final])).code, 2);
      assert.equal((await runCli(["verify", join(t.dir, "missing.pdf"), "--public-key", keysPem])).code, 2);
      assert.equal((await runCli(["verify", files.final, "--public-key", files.original])).code, 2);
    });
  });
}
