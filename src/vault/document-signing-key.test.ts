// Proves the PAdES signing identity: operator files are checked at start-up with an error naming what
// is wrong (missing file, key not matching, expired, not yet valid, key usage, weak key); good ECDSA and
// RSA files sign final PDFs that pdfsig accepts; the dev default makes, seals and reuses its own key.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { loadConfig } from "../config/config.ts";
import { sealSignedDocument } from "../modules/seals/seal-signed-document.ts";
import { openRuntime } from "../runtime/open-runtime.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../test/support/databases.ts";
import { makePdf, pdfsig, sealInputFor } from "../../test/support/pdfs.ts";
import { checkDocumentSigningFiles, readDocumentSigningFiles, type DocumentSigningFiles } from "./document-signing-key.ts";
import { createVault } from "./vault.ts";
import { createVaultRepository } from "./vault-repository.ts";

type CertificateOptions = { algorithm?: "ecdsa" | "rsa"; rsaBits?: number; notBefore?: Date; notAfter?: Date; usages?: number; name?: string };

async function makeIdentity(options: CertificateOptions = {}): Promise<DocumentSigningFiles> {
  const algorithm = options.algorithm === "rsa"
    ? { name: "RSASSA-PKCS1-v1_5", modulusLength: options.rsaBits ?? 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: options.name ?? "CN=Example Operator Seal, O=Example",
    notBefore: options.notBefore ?? new Date(Date.now() - 86_400_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.KeyUsagesExtension(options.usages ?? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true)],
  }, webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return { certificateChainPem: certificate.toString("pem"), privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n` };
}

const refusal = (pattern: RegExp) => ({ code: "config_invalid", message: pattern });

describe("operator-supplied document-signing files", () => {
  let directory: string;
  let good: DocumentSigningFiles;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "sr-signing-"));
    good = await makeIdentity();
  });
  after(() => rm(directory, { recursive: true, force: true }));


  it("accepts a matching, current ECDSA pair with signing key usage", async () => {
    await writeFile(join(directory, "cert.pem"), good.certificateChainPem);
    await writeFile(join(directory, "key.pem"), good.privateKeyPem);
    assert.deepEqual(readDocumentSigningFiles(join(directory, "cert.pem"), join(directory, "key.pem")), good);
  });

  it("names each problem", async () => {
    assert.throws(() => readDocumentSigningFiles(join(directory, "missing.pem"), join(directory, "key.pem")), refusal(/documentSigning\.certFile: cannot read .*missing\.pem/));
    assert.throws(() => checkDocumentSigningFiles({ ...good, certificateChainPem: "hello" }), refusal(/holds no PEM certificate/));
    assert.throws(() => checkDocumentSigningFiles({ ...good, privateKeyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" }), refusal(/keyFile: not a readable/));
    const other = await makeIdentity();
    assert.throws(() => checkDocumentSigningFiles({ ...good, privateKeyPem: other.privateKeyPem }), refusal(/private key does not match the certificate/));
    const expired = await makeIdentity({ notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    assert.throws(() => checkDocumentSigningFiles(expired), refusal(/certificate expired on/));
    const early = await makeIdentity({ notBefore: new Date(Date.now() + 86_400_000) });
    assert.throws(() => checkDocumentSigningFiles(early), refusal(/not valid before/));
    const caOnly = await makeIdentity({ usages: x509.KeyUsageFlags.keyCertSign });
    assert.throws(() => checkDocumentSigningFiles(caOnly), refusal(/key usage allows neither digitalSignature nor nonRepudiation/));
    const weak = await makeIdentity({ algorithm: "rsa", rsaBits: 1024 });
    assert.throws(() => checkDocumentSigningFiles(weak), refusal(/ECDSA .* or RSA of at least 2048 bits/));
  });

  it("stops start-up with that error when the configured files are wrong", async () => {
    await writeFile(join(directory, "other-key.pem"), (await makeIdentity()).privateKeyPem);
    const config = loadConfig({ overrides: { dataDir: join(directory, "data"), "documentSigning.certFile": join(directory, "cert.pem"), "documentSigning.keyFile": join(directory, "other-key.pem") } });
    await assert.rejects(openRuntime(config), refusal(/private key does not match/));
    assert.throws(() => loadConfig({ overrides: { dataDir: directory, "documentSigning.certFile": join(directory, "cert.pem") } }), refusal(/set both documentSigning\.certFile and documentSigning\.keyFile/));
    const env = { STRONGROOM_DOCUMENT_SIGNING_CERT_FILE: "/a.pem", STRONGROOM_DOCUMENT_SIGNING_KEY_FILE: "/b.pem", STRONGROOM_DATA_DIR: directory };
    assert.deepEqual(loadConfig({ env }).documentSigning, { certFile: "/a.pem", keyFile: "/b.pem" });
  });
});

for (const kind of databaseKinds) {
  describe(`document-signing key in the vault (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let share = "";
    before(async () => {
      test = await openTestDatabase(kind);
    });
    after(() => test.cleanup());

    const unsealedVault = async (options: Parameters<typeof createVault>[1] = {}) => {
      const vault = createVault(createVaultRepository(test.database.db), options);
      const status = await vault.status();
      if (!status.initialized) share = (await vault.initialize(1, 1)).shares[0]!;
      await vault.submitShare(share);
      return vault;
    };

    it("dev default: makes an ECDSA P-256 identity once, keeps its key sealed, reuses it after a restart, refuses while sealed", async () => {
      const vault = await unsealedVault();
      const first = await vault.documentSigningKey.identity();
      assert.equal(first.signatureAlgorithm, "1.2.840.10045.4.3.2");
      const row = await test.database.db.selectFrom("document_signing_keys").selectAll().executeTakeFirstOrThrow();
      assert.ok(!Buffer.from(row.private_key_ciphertext).includes("PRIVATE KEY"));
      const again = await (await unsealedVault()).documentSigningKey.identity();
      assert.equal(again.id, first.id);
      assert.deepEqual(again.certificateChain, first.certificateChain);
      await vault.seal();
      await assert.rejects(vault.documentSigningKey.sign(Buffer.from("x")), { code: "sealed" });
      assert.equal((await vault.documentSigningKey.certificates()).length, 1);
    });

    it("operator files: a certificate that expires while the server runs stops signing with a clear error", async () => {
      const files = await makeIdentity({ notAfter: new Date(Date.now() + 1500) });
      const vault = await unsealedVault({ documentSigning: files });
      await vault.documentSigningKey.sign(Buffer.from("before expiry"));
      await new Promise((resolve) => setTimeout(resolve, 2100));
      await assert.rejects(vault.documentSigningKey.sign(Buffer.from("after expiry")), refusal(/certificate expired on/));
    });

    it("operator files: ECDSA and RSA-3072 identities sign PDFs that pdfsig accepts", async () => {
      const original = await makePdf(2);
      for (const files of [await makeIdentity({ name: "CN=Operator EC Seal" }), await makeIdentity({ algorithm: "rsa", name: "CN=Operator RSA Seal" })]) {
        const vault = await unsealedVault({ documentSigning: files });
        assert.equal((await vault.documentSigningKey.identity()).id, "operator");
        const { finalPdf } = await sealSignedDocument({ db: test.database.db, vault }, sealInputFor(original));
        const report = await pdfsig(finalPdf);
        assert.ok(report.valid && report.wholeDocument, report.output);
        assert.match(report.output, /Signer Certificate Common Name: Operator (EC|RSA) Seal/);
      }
    });
  });
}
