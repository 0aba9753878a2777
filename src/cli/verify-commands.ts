// `strongroom verify FILE --public-key KEYS [--seal SEAL.json] [--json]` checks a sealed PDF with no
// server: its PAdES signature against the service's signing certificate, and (given the seal record,
// as POST /v1/verify returns it) that the seal names this file's SHA-256, that the service key signed
// it, and that its inclusion proof leads to a signed tree head. Exit 0 valid, 1 invalid, 2 usage.
// `strongroom verify-key export` prints the KEYS file: the service public keys and signing certificates.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "../config/config.ts";
import { verifyPadesSignature } from "../modules/seals/pades-signature.ts";
import { sealLeaf, sealSignatureMessage } from "../modules/seals/seal-record.ts";
import type { SealRecord } from "../modules/seals/seal-types.ts";
import { verifyInclusionProof, verifyTreeHead, type InclusionProof, type SignedTreeHead } from "../modules/seals/transparency-log.ts";
import { openRuntime } from "../runtime/open-runtime.ts";
import { pemBlocks } from "../vault/document-signing-key.ts";
import { verifyServiceSignature } from "../vault/service-signing-key.ts";
import { UsageError, type Output } from "./cli-io.ts";

export type VerifyKeys = { servicePublicKeys: string[]; signingCertificates: Buffer[] };

type Check = { name: string; ok: boolean; detail: string };

export async function runVerifyCommand(files: string[], values: { "public-key"?: string | undefined; seal?: string | undefined; json?: boolean | undefined }, io: Output): Promise<number> {
  if (files.length !== 1) throw new UsageError("verify takes exactly one PDF file");
  if (!values["public-key"]) throw new UsageError("missing --public-key (the file from `strongroom verify-key export` or GET /v1/verify/keys)");
  const keys = readVerifyKeys(values["public-key"]);
  const pdf = readInput(files[0]!, "the PDF");
  const sealFile = values.seal ? parseSealFile(readInput(values.seal, "the seal file").toString("utf8")) : undefined;
  const checks = checkSealedPdf(pdf, keys, sealFile);
  const valid = checks.every((check) => check.ok);
  if (values.json) {
    io.out(JSON.stringify({ valid, sha256: createHash("sha256").update(pdf).digest("hex"), checks }, null, 2));
  } else {
    for (const check of checks) io.out(`${check.ok ? "ok  " : "FAIL"}  ${check.name}: ${check.detail}`);
    io.out(valid ? "VALID: sealed by this service and unmodified" : "INVALID: not sealed by this service, or modified since");
  }
  return valid ? 0 : 1;
}

export function checkSealedPdf(pdf: Buffer, keys: VerifyKeys, sealFile: { seal: SealRecord; inclusionProof?: InclusionProof; treeHead?: SignedTreeHead } | undefined): Check[] {
  const checks: Check[] = [];
  const sha256 = createHash("sha256").update(pdf).digest("hex");
  const pades = verifyPadesSignature(pdf, keys.signingCertificates);
  if (pades.valid) {
    checks.push({ name: "PAdES signature", ok: true, detail: "made with the service's signing certificate over the signed byte range" });
    checks.push({ name: "whole file signed", ok: pades.coversWholeFile, detail: pades.coversWholeFile ? "nothing was added after the signature" : "bytes were added after the signature" });
  } else {
    const why = {
      no_signature: "the file carries no PDF signature",
      unreadable_signature: "the signature cannot be read",
      untrusted_certificate: "the signature was not made with this service's signing certificate",
      digest_mismatch: "the signed bytes were changed (digest mismatch)",
      bad_signature: "the signature value does not verify",
    }[pades.reason];
    checks.push({ name: "PAdES signature", ok: false, detail: why });
  }
  if (!sealFile) return checks;
  const { seal } = sealFile;
  checks.push({ name: "seal names this file", ok: seal.sha256 === sha256, detail: seal.sha256 === sha256 ? `SHA-256 ${sha256}` : `the seal is for ${seal.sha256}, this file is ${sha256}` });
  const signed = keys.servicePublicKeys.some((pem) => verifyServiceSignature(pem, sealSignatureMessage(seal), seal.signature));
  checks.push({ name: "seal signature", ok: signed, detail: signed ? `signed by the service key ${seal.keyId} (request ${seal.requestId}, sealed ${seal.sealedAt})` : "not signed by any given service key" });
  if (sealFile.inclusionProof && sealFile.treeHead) {
    const head = sealFile.treeHead;
    const headSigned = keys.servicePublicKeys.some((pem) => verifyTreeHead(head, [{ id: head.keyId, publicKeyPem: pem }]));
    const included = sealFile.inclusionProof.logIndex === seal.logIndex && verifyInclusionProof(sealLeaf(seal), sealFile.inclusionProof, head);
    checks.push({ name: "transparency log", ok: headSigned && included, detail: headSigned && included ? `entry ${seal.logIndex} of a signed tree of ${head.treeSize}` : "the inclusion proof or the tree head does not verify" });
  }
  return checks;
}

/** Reads the KEYS file: PEM (PUBLIC KEY and CERTIFICATE blocks) or the JSON of GET /v1/verify/keys. */
export function readVerifyKeys(file: string): VerifyKeys {
  const text = readInput(file, "the key file").toString("utf8");
  let servicePublicKeys: string[];
  let certificatePems: string[];
  if (text.trimStart().startsWith("{")) {
    try {
      const parsed = JSON.parse(text) as { serviceKeys?: { publicKeyPem: string }[]; signingCertificates?: string[] };
      servicePublicKeys = (parsed.serviceKeys ?? []).map((key) => key.publicKeyPem);
      certificatePems = parsed.signingCertificates ?? [];
    } catch {
      throw new UsageError(`${file} is neither PEM nor the JSON of GET /v1/verify/keys`);
    }
  } else {
    servicePublicKeys = pemBlocks(text, "PUBLIC KEY");
    certificatePems = pemBlocks(text, "CERTIFICATE");
  }
  if (servicePublicKeys.length === 0 && certificatePems.length === 0) throw new UsageError(`${file} holds no public key and no certificate`);
  const signingCertificates = certificatePems.map((pem) => Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ""), "base64"));
  return { servicePublicKeys, signingCertificates };
}

function parseSealFile(text: string): { seal: SealRecord; inclusionProof?: InclusionProof; treeHead?: SignedTreeHead } {
  try {
    const parsed = JSON.parse(text) as { seal?: SealRecord; inclusionProof?: InclusionProof; treeHead?: SignedTreeHead } & Partial<SealRecord>;
    const seal = parsed.seal ?? (parsed as SealRecord);
    if (seal.format !== "strongroom-seal/v1" || typeof seal.sha256 !== "string" || typeof seal.signature !== "string") throw new Error("not a seal");
    return { seal, ...(parsed.inclusionProof ? { inclusionProof: parsed.inclusionProof } : {}), ...(parsed.treeHead ? { treeHead: parsed.treeHead } : {}) };
  } catch {
    throw new UsageError("the seal file is not a seal record (or a POST /v1/verify answer) in JSON");
  }
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new UsageError(`cannot read ${what}: ${file}`);
  }
}

export async function runVerifyKeyCommand(verb: string | undefined, config: Config, io: Output): Promise<number> {
  if (verb !== "export") throw new UsageError("verify-key takes: export");
  const runtime = await openRuntime(config);
  try {
    const serviceKeys = await runtime.vault.serviceKey.publicKeys();
    const certificates = await runtime.vault.documentSigningKey.certificates();
    if (certificates.length === 0) io.err("warning: no signing certificate yet (it is made when the server first starts unsealed)");
    const lines = [
      ...serviceKeys.map((key) => `# service key ${key.id} (Ed25519): seals and tree heads\n${key.publicKeyPem.trim()}`),
      ...certificates.map((pem) => `# document-signing certificate (PAdES)\n${pem.trim()}`),
    ];
    io.out(lines.join("\n"));
    return 0;
  } finally {
    await runtime.close();
  }
}
