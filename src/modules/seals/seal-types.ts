// What the signature workflow hands to the seal, and what it gets back: the contract between
// `modules/signing` (requests, links, PINs, evidence) and `modules/seals` (final PDF, SHA-256 seal,
// PAdES signature, transparency log, verification).

export type PlacedFieldKind = "signature" | "initials" | "date" | "text" | "checkbox";

/** A field as filled in by its recipient. Coordinates are PDF points from the page's lower-left corner. */
export type FilledField = {
  recipientId: string;
  kind: PlacedFieldKind;
  /** 0-based page index; -1 means "on the appended signature page". */
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** text, initials, date: the text; checkbox: "true"/"false"; signature: a typed name, or a PNG as data: URL when drawn. */
  value: string;
};

export type SealSigner = {
  recipientId: string;
  name: string;
  email: string;
  role: "signer" | "approver";
  signedAt: string;
  ip: string;
  userAgent: string;
};

/** One step of the request's evidence trail (sent, delivered, opened, pin_ok, pin_failed, viewed, signed, declined, completed). */
export type EvidenceStep = { at: string; event: string; recipientName: string | null; ip: string | null; userAgent: string | null };

export type SealInput = {
  tenantId: string;
  requestId: string;
  title: string;
  originalPdf: Uint8Array;
  fields: FilledField[];
  signers: SealSigner[];
  evidence: EvidenceStep[];
  completedAt: string;
};

/** The signed statement: the service key signs the canonical JSON of every field but `signature` and `keyId` (see seal-record.ts). */
export type SealRecord = {
  format: "strongroom-seal/v1";
  sha256: string;
  originalSha256: string;
  requestId: string;
  tenantId: string;
  signers: { name: string; email: string; signedAt: string }[];
  completedAt: string;
  sealedAt: string;
  keyId: string;
  signature: string;
  /** Position of this seal in the transparency log. */
  logIndex: number;
};

export type SealResult = { finalPdf: Buffer; seal: SealRecord };

/**
 * `beforeRecord` runs once the final PDF exists and before the seal is recorded: the caller stores the
 * PDF there, so a seal is never recorded for a PDF that was not kept (if it throws, nothing is recorded
 * and the request can be sealed again).
 */
export type SealOptions = { beforeRecord?: (finalPdf: Buffer, sha256: string) => Promise<void> };
