// PAdES baseline signature of the final PDF (subFilter ETSI.CAdES.detached): @signpdf places the
// byte range and fills /Contents with the CMS SignedData built here with pkijs; the signature value
// itself comes from the vault. Also the reader used by the offline verifier and the public API.
import { createHash } from "node:crypto";
import { pdflibAddPlaceholder } from "@signpdf/placeholder-pdf-lib";
import { SignPdf } from "@signpdf/signpdf";
import { Signer, SUBFILTER_ETSI_CADES_DETACHED } from "@signpdf/utils";
import * as asn1js from "asn1js";
import type { PDFDocument } from "pdf-lib";
import * as pkijs from "pkijs";
import { verifyCertificateSignature, type DocumentSigningIdentity } from "../../vault/document-signing-key.ts";
import { readEmbeddedSignature, signatureRoomBytes } from "./pdf-signature-bytes.ts";

export { derPrefix, readEmbeddedSignature, signatureRoomBytes, type EmbeddedSignature } from "./pdf-signature-bytes.ts";

const oid = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  sha256: "2.16.840.1.101.3.4.2.1",
  rsaSha256: "1.2.840.113549.1.1.11",
} as const;


export type DocumentSigner = {
  identity(): Promise<DocumentSigningIdentity>;
  sign(message: Uint8Array): Promise<Buffer>;
};

/** Adds the empty signature dictionary (invisible widget on `pageIndex`) before the document is saved. */
export function addSignaturePlaceholder(pdfDoc: PDFDocument, options: { pageIndex: number; reason: string; signingTime: Date }): void {
  pdflibAddPlaceholder({
    pdfPage: pdfDoc.getPage(options.pageIndex),
    reason: options.reason,
    contactInfo: "",
    name: "Strongroom",
    location: "",
    signingTime: options.signingTime,
    signatureLength: signatureRoomBytes,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
    widgetRect: [0, 0, 0, 0],
    appName: "Strongroom",
  });
}

/** Fills the placeholder of a saved PDF; returns the signed PDF and the CMS it now carries. */
export async function embedPadesSignature(pdfWithPlaceholder: Buffer, documentSigner: DocumentSigner): Promise<{ pdf: Buffer; cms: Buffer }> {
  const signer = new CadesSigner(documentSigner);
  const pdf = await new SignPdf().sign(pdfWithPlaceholder, signer);
  return { pdf, cms: signer.lastCms! };
}

class CadesSigner extends Signer {
  lastCms: Buffer | undefined;
  readonly documentSigner: DocumentSigner;

  constructor(documentSigner: DocumentSigner) {
    super();
    this.documentSigner = documentSigner;
  }

  override async sign(signedContent: Buffer): Promise<Buffer> {
    this.lastCms = await buildCadesSignedData(createHash("sha256").update(signedContent).digest(), this.documentSigner);
    return this.lastCms;
  }
}

export async function buildCadesSignedData(contentDigest: Buffer, documentSigner: DocumentSigner): Promise<Buffer> {
  const identity = await documentSigner.identity();
  const certificates = identity.certificateChain.map((der) => pkijs.Certificate.fromBER(der));
  const signerCertificate = certificates[0]!;
  const essCertIdV2 = new asn1js.Sequence({
    value: [
      // hashAlgorithm omitted: SHA-256 is the DEFAULT
      new asn1js.OctetString({ valueHex: createHash("sha256").update(identity.certificateChain[0]!).digest() }),
      new pkijs.IssuerSerial({
        issuer: new pkijs.GeneralNames({ names: [new pkijs.GeneralName({ type: 4, value: signerCertificate.issuer })] }),
        serialNumber: signerCertificate.serialNumber,
      }).toSchema(),
    ],
  });
  const attributes = [
    new pkijs.Attribute({ type: oid.contentType, values: [new asn1js.ObjectIdentifier({ value: oid.data })] }),
    new pkijs.Attribute({ type: oid.messageDigest, values: [new asn1js.OctetString({ valueHex: contentDigest })] }),
    new pkijs.Attribute({ type: oid.signingCertificateV2, values: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] })] }),
  ];
  // DER SET OF: elements in the order of their encodings, as verifiers re-encode before checking.
  const encoded = (attribute: pkijs.Attribute) => Buffer.from(attribute.toSchema().toBER());
  attributes.sort((a, b) => Buffer.compare(encoded(a), encoded(b)));
  const signedAttrs = new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes });
  const toSign = new Uint8Array(signedAttrs.toSchema().toBER());
  toSign[0] = 0x31;
  const signature = await documentSigner.sign(toSign);

  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: signerCertificate.issuer, serialNumber: signerCertificate.serialNumber }),
    digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: oid.sha256 }),
    signedAttrs,
    signatureAlgorithm: new pkijs.AlgorithmIdentifier(
      identity.signatureAlgorithm === oid.rsaSha256 ? { algorithmId: oid.rsaSha256, algorithmParams: new asn1js.Null() } : { algorithmId: identity.signatureAlgorithm },
    ),
    signature: new asn1js.OctetString({ valueHex: signature }),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: oid.sha256 })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: oid.data }),
    certificates,
    signerInfos: [signerInfo],
  });
  const contentInfo = new pkijs.ContentInfo({ contentType: oid.signedData, content: signedData.toSchema(true) });
  return Buffer.from(contentInfo.toSchema().toBER());
}

export type PadesCheck =
  | { valid: true; signerCertificate: Buffer; coversWholeFile: boolean }
  | { valid: false; reason: "no_signature" | "unreadable_signature" | "untrusted_certificate" | "digest_mismatch" | "bad_signature" };

/**
 * Checks the PDF's last signature: its certificate is one of `trustedCertificates` (DER), the signed
 * byte ranges hash to its messageDigest, and its signature over the signed attributes verifies.
 */
export function verifyPadesSignature(pdf: Buffer, trustedCertificates: readonly Uint8Array[]): PadesCheck {
  const embedded = readEmbeddedSignature(pdf);
  if (!embedded) return { valid: false, reason: "no_signature" };
  let signerInfo: pkijs.SignerInfo;
  let signerCertificate: Buffer | undefined;
  try {
    const contentInfo = pkijs.ContentInfo.fromBER(embedded.cms);
    if (contentInfo.contentType !== oid.signedData) return { valid: false, reason: "unreadable_signature" };
    const signedData = new pkijs.SignedData({ schema: contentInfo.content });
    if (signedData.signerInfos.length !== 1) return { valid: false, reason: "unreadable_signature" };
    signerInfo = signedData.signerInfos[0]!;
    const sid = signerInfo.sid;
    const certificate = (signedData.certificates ?? []).find((item): item is pkijs.Certificate =>
      item instanceof pkijs.Certificate && sid instanceof pkijs.IssuerAndSerialNumber && item.issuer.isEqual(sid.issuer) && item.serialNumber.isEqual(sid.serialNumber));
    signerCertificate = certificate && Buffer.from(certificate.toSchema().toBER());
  } catch {
    return { valid: false, reason: "unreadable_signature" };
  }
  if (!signerCertificate) return { valid: false, reason: "unreadable_signature" };
  if (!trustedCertificates.some((trusted) => Buffer.from(trusted).equals(signerCertificate))) return { valid: false, reason: "untrusted_certificate" };
  const attributes = signerInfo.signedAttrs?.attributes ?? [];
  const digestAttribute = attributes.find((attribute) => attribute.type === oid.messageDigest);
  const digestValue = digestAttribute?.values[0];
  if (!(digestValue instanceof asn1js.OctetString) || signerInfo.digestAlgorithm.algorithmId !== oid.sha256) return { valid: false, reason: "unreadable_signature" };
  const [, firstLength, second, secondLength] = embedded.byteRange;
  const digest = createHash("sha256").update(pdf.subarray(0, firstLength)).update(pdf.subarray(second, second + secondLength)).digest();
  if (!digest.equals(Buffer.from(digestValue.valueBlock.valueHexView))) return { valid: false, reason: "digest_mismatch" };
  const signed = new Uint8Array(signerInfo.signedAttrs!.encodedValue.slice(0));
  signed[0] = 0x31;
  if (!verifyCertificateSignature(signerCertificate, signed, new Uint8Array(signerInfo.signature.valueBlock.valueHexView))) return { valid: false, reason: "bad_signature" };
  return { valid: true, signerCertificate, coversWholeFile: embedded.coversWholeFile };
}
