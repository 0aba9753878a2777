// A PDF's signature dictionary read at the byte level: the byte range and the CMS in /Contents. No PDF
// or ASN.1 library is needed for this, so the verification routes can load without them (pdf-lib,
// pkijs and @signpdf load when a document is sealed or a signature is checked; see pades-signature.ts).

/** Room for the CMS in /Contents (bytes; the PDF holds it as hex, twice as long). */
export const signatureRoomBytes = 16_384;

export type EmbeddedSignature = {
  byteRange: [number, number, number, number];
  /** The CMS DER, without the zero padding of the placeholder. */
  cms: Buffer;
  /** The byte range runs from the first byte to the last, leaving out only the /Contents hex string. */
  coversWholeFile: boolean;
};

/** The last signature dictionary of a PDF, or undefined when it has none that can be read. */
export function readEmbeddedSignature(pdf: Buffer): EmbeddedSignature | undefined {
  const marker = pdf.lastIndexOf("/ByteRange");
  if (marker < 0) return undefined;
  const match = /^\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/.exec(pdf.subarray(marker, marker + 100).toString("latin1"));
  if (!match) return undefined;
  const byteRange = match.slice(1, 5).map(Number) as [number, number, number, number];
  const [start, firstLength, second, secondLength] = byteRange;
  if (start !== 0 || second <= firstLength + 1 || second + secondLength > pdf.length) return undefined;
  if (pdf[firstLength] !== 0x3c || pdf[second - 1] !== 0x3e) return undefined;
  const hex = pdf.subarray(firstLength + 1, second - 1).toString("latin1");
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) return undefined;
  const cms = derPrefix(Buffer.from(hex, "hex"));
  if (!cms) return undefined;
  return { byteRange, cms, coversWholeFile: second + secondLength === pdf.length };
}

/** The complete DER element at the start of `bytes` (definite lengths only), or undefined. */
export function derPrefix(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x30) return undefined;
  let length = bytes[1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || bytes.length < 2 + count) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i]!;
    header = 2 + count;
  }
  return header + length <= bytes.length ? bytes.subarray(0, header + length) : undefined;
}

