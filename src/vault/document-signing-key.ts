// The key and X.509 certificate that sign final PDFs (PAdES). An operator supplies them as files
// (checked at start-up: readable, matching, in date, allowed to sign); otherwise the vault makes an
// ECDSA P-256 key with a self-signed certificate and keeps the private key sealed in the database.
import { createPrivateKey, createPublicKey, sign, verify, webcrypto, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type * as X509 from "@peculiar/x509";
import type { Kysely } from "kysely";
import { AppError } from "../errors/app-error.ts";
import type { DatabaseSchema } from "../store/schema.ts";
import type { TenantData } from "./tenant-data.ts";

// @peculiar/x509 (and the reflect-metadata it needs) is loaded on first use: loading it takes ~90 ms,
// which every command that opens the vault (a backup, an unseal) would otherwise pay for nothing.
const require = createRequire(import.meta.url);
let x509Module: typeof X509 | undefined;
function loadX509(): typeof X509 {
  if (!x509Module) {
    require("reflect-metadata");
    x509Module = require("@peculiar/x509") as typeof X509;
  }
  return x509Module;
}

/** PEM texts of an operator-supplied signing identity: the signer's certificate first, then its chain. */
export type DocumentSigningFiles = { certificateChainPem: string; privateKeyPem: string };

export type DocumentSigningIdentity = {
  id: string;
  /** DER certificates: the signer's first, then any chain certificates supplied with it. */
  certificateChain: Buffer[];
  /** OIDs for the CMS SignerInfo. */
  digestAlgorithm: "2.16.840.1.101.3.4.2.1";
  signatureAlgorithm: "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11";
};

const owner = "system:document-signing-key";
const contextOf = (id: string) => ({ tenantId: owner, objectType: "document_signing_key", objectId: id, objectVersion: 1 });
const generatedValidityDays = 5 * 365;
const renewBeforeMs = 30 * 86_400_000;

/** Reads and checks an operator's certificate and key files; every problem is a start-up error that names it. */
export function readDocumentSigningFiles(certFile: string, keyFile: string, now = new Date()): DocumentSigningFiles {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      throw signingConfigError(`documentSigning.${what}: cannot read ${file}`);
    }
  };
  const files = { certificateChainPem: read(certFile, "certFile"), privateKeyPem: read(keyFile, "keyFile") };
  checkDocumentSigningFiles(files, now);
  return files;
}

export function checkDocumentSigningFiles(files: DocumentSigningFiles, now = new Date()): void {
  const chain = pemBlocks(files.certificateChainPem, "CERTIFICATE");
  if (chain.length === 0) throw signingConfigError("documentSigning.certFile: holds no PEM certificate");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(chain[0]!);
  } catch {
    throw signingConfigError("documentSigning.certFile: the first certificate cannot be parsed");
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(files.privateKeyPem);
  } catch {
    throw signingConfigError("documentSigning.keyFile: not a readable unencrypted PEM private key");
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw signingConfigError("documentSigning: the private key does not match the certificate's public key");
  }
  signatureAlgorithmOf(privateKey);
  if (now < new Date(certificate.validFrom)) throw signingConfigError(`documentSigning.certFile: the certificate is not valid before ${certificate.validFrom}`);
  if (now > new Date(certificate.validTo)) throw signingConfigError(`documentSigning.certFile: the certificate expired on ${certificate.validTo}`);
  const x509 = loadX509();
  const usages = new x509.X509Certificate(certificate.raw).getExtension(x509.KeyUsagesExtension);
  if (usages && (usages.usages & (x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation)) === 0) {
    throw signingConfigError("documentSigning.certFile: the certificate's key usage allows neither digitalSignature nor nonRepudiation");
  }
}

export function createDocumentSigningKey(db: Kysely<DatabaseSchema>, data: () => TenantData, supplied: DocumentSigningFiles | undefined) {
  let active: { identity: DocumentSigningIdentity; privateKey: KeyObject } | undefined;

  function fromFiles(files: DocumentSigningFiles) {
    checkDocumentSigningFiles(files);
    const privateKey = createPrivateKey(files.privateKeyPem);
    const certificateChain = pemBlocks(files.certificateChainPem, "CERTIFICATE").map((pem) => Buffer.from(new X509Certificate(pem).raw));
    return { identity: identityOf("operator", certificateChain, privateKey), privateKey };
  }

  async function generated() {
    const now = new Date();
    let row = await db.selectFrom("document_signing_keys").selectAll().where("retired_at", "is", null).orderBy("created_at", "desc").executeTakeFirst();
    if (row && new Date(row.not_after).getTime() - renewBeforeMs < now.getTime()) {
      await db.updateTable("document_signing_keys").set({ retired_at: now.toISOString() }).where("id", "=", row.id).execute();
      row = undefined;
    }
    if (!row) {
      const id = `dsk_${Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString("hex")}`;
      const made = await createSelfSignedSigningCertificate(id, now);
      await db.insertInto("document_signing_keys").values({
        id,
        certificate_pem: made.certificatePem,
        private_key_ciphertext: await data().sealString(contextOf(id), made.privateKeyPem),
        not_after: made.notAfter.toISOString(),
        created_at: now.toISOString(),
        retired_at: null,
      }).execute();
      row = await db.selectFrom("document_signing_keys").selectAll().where("retired_at", "is", null).orderBy("created_at", "desc").executeTakeFirstOrThrow();
    }
    const privateKey = createPrivateKey(await data().openString(contextOf(row.id), row.private_key_ciphertext));
    const certificateChain = [Buffer.from(new X509Certificate(row.certificate_pem).raw)];
    return { identity: identityOf(row.id, certificateChain, privateKey), privateKey };
  }

  async function load() {
    // Operator files are checked again at each use: a certificate that expires while the server runs
    // stops sealing with a clear error instead of producing signatures readers reject.
    if (supplied) return (active = fromFiles(supplied));
    if (active && !expiresSoon(active.identity)) return active;
    active = await generated();
    return active;
  }

  return {
    /** Loads (or, in the default, makes) the identity; call once after unsealing so a problem shows at start-up. */
    async identity(): Promise<DocumentSigningIdentity> {
      return (await load()).identity;
    },
    /** Signs `message` (the DER of the CMS signed attributes) with SHA-256 and the identity's key. */
    async sign(message: Uint8Array): Promise<Buffer> {
      const key = await load();
      return sign("sha256", message, key.privateKey);
    },
    /** Every certificate this installation has signed PDFs with, PEM, newest first (operator's first). */
    async certificates(): Promise<string[]> {
      const rows = await db.selectFrom("document_signing_keys").select("certificate_pem").orderBy("created_at", "desc").execute();
      const own = supplied ? [pemBlocks(supplied.certificateChainPem, "CERTIFICATE")[0]!] : [];
      return [...own, ...rows.map((row) => row.certificate_pem)];
    },
    forget(): void {
      active = undefined;
    },
  };
}

export type DocumentSigningKey = ReturnType<typeof createDocumentSigningKey>;

/** Checks a CMS signer's signature over `message` with the public key of `certificateDer`. */
export function verifyCertificateSignature(certificateDer: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const publicKey = createPublicKey(new X509Certificate(certificateDer).publicKey.export({ type: "spki", format: "pem" }));
    return verify("sha256", message, publicKey, signature);
  } catch {
    return false;
  }
}

export function pemBlocks(text: string, label: string): string[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, "g");
  return text.match(pattern) ?? [];
}

function identityOf(id: string, certificateChain: Buffer[], privateKey: KeyObject): DocumentSigningIdentity {
  return { id, certificateChain, digestAlgorithm: "2.16.840.1.101.3.4.2.1", signatureAlgorithm: signatureAlgorithmOf(privateKey) };
}

function signatureAlgorithmOf(privateKey: KeyObject): DocumentSigningIdentity["signatureAlgorithm"] {
  const details = privateKey.asymmetricKeyDetails ?? {};
  if (privateKey.asymmetricKeyType === "ec" && ["prime256v1", "secp384r1", "secp521r1"].includes(details.namedCurve ?? "")) return "1.2.840.10045.4.3.2";
  if (privateKey.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= 2048) return "1.2.840.113549.1.1.11";
  throw signingConfigError("documentSigning.keyFile: the key must be ECDSA (P-256, P-384, P-521) or RSA of at least 2048 bits");
}

function expiresSoon(identity: DocumentSigningIdentity): boolean {
  return new Date(new X509Certificate(identity.certificateChain[0]!).validTo).getTime() - renewBeforeMs < Date.now();
}

function signingConfigError(problem: string): AppError {
  return new AppError("config_invalid", `invalid document-signing identity:\n  - ${problem}`);
}

async function createSelfSignedSigningCertificate(id: string, now: Date): Promise<{ certificatePem: string; privateKeyPem: string; notAfter: Date }> {
  const x509 = loadX509();
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(notBefore.getTime() + generatedValidityDays * 86_400_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "7"),
      name: `CN=Strongroom document seal ${id}, O=Strongroom`,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto as unknown as Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[2]),
      ],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
  return { certificatePem: certificate.toString("pem"), privateKeyPem, notAfter };
}
