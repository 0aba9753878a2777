// Splits the unseal key among key custodians (Shamir over GF(256), via shamir-secret-sharing) and
// parses the share strings they type back in. Shamir has no integrity of its own: a wrong share set
// is only detected when the combined key fails to open the root key (see seal-state.ts).
import { createHash, timingSafeEqual } from "node:crypto";
import { combine, split } from "shamir-secret-sharing";
import { AppError } from "../errors/app-error.ts";

const sharePrefix = "srs1";
const checksumLength = 4;

export type ParsedShare = { installationTag: string; bytes: Buffer };

export const maxShares = 16;

export function validateShareCounts(shares: number, threshold: number): void {
  const valid =
    Number.isInteger(shares) && Number.isInteger(threshold) &&
    shares >= 1 && shares <= maxShares && threshold >= 1 && threshold <= shares &&
    (threshold > 1 || shares === 1);
  if (!valid) {
    throw new AppError(
      "bad_request",
      `shares must be 1..${maxShares} and threshold 2..shares (or 1-of-1); got ${shares} shares, threshold ${threshold}`,
    );
  }
}

export async function splitUnsealKey(
  unsealKey: Buffer,
  shares: number,
  threshold: number,
  installationId: string,
): Promise<string[]> {
  validateShareCounts(shares, threshold);
  // The library checks for a plain Uint8Array, not a Buffer.
  const secret = Uint8Array.from(unsealKey);
  try {
    const parts = threshold === 1 ? [secret] : await split(secret, shares, threshold);
    return parts.map((part) => formatShare(Buffer.from(part), installationId));
  } finally {
    secret.fill(0);
  }
}

export async function combineShares(shares: ParsedShare[]): Promise<Buffer> {
  if (shares.length === 1) return Buffer.from(shares[0]!.bytes);
  const combined = await combine(shares.map((share) => Uint8Array.from(share.bytes)));
  try {
    return Buffer.from(combined);
  } finally {
    combined.fill(0);
  }
}

export function installationTagOf(installationId: string): string {
  return createHash("sha256").update(installationId).digest("hex").slice(0, 8);
}

export function formatShare(bytes: Buffer, installationId: string): string {
  const tag = installationTagOf(installationId);
  return `${sharePrefix}-${tag}-${bytes.toString("hex")}-${checksumOf(tag, bytes).toString("hex")}`;
}

// Never echoes the share back in an error: it is a secret.
export function parseShare(text: string, installationId: string): ParsedShare {
  const parts = text.trim().split("-");
  const [prefix, tag, body, checksum] = parts;
  if (parts.length !== 4 || prefix !== sharePrefix || !tag || !body || !checksum || !/^[0-9a-f]{8}$/.test(checksum)) {
    throw new AppError("share_malformed", "the share is not in the srs1-… format printed by `operator init`");
  }
  if (!/^([0-9a-f]{2})+$/.test(body)) throw new AppError("share_malformed", "the share is not in the srs1-… format printed by `operator init`");
  const bytes = Buffer.from(body, "hex");
  if (bytes.length < 32 || bytes.length > 64 || !timingSafeEqual(checksumOf(tag, bytes), Buffer.from(checksum, "hex"))) {
    throw new AppError("share_malformed", "the share is damaged (checksum mismatch): check it was copied completely");
  }
  if (tag !== installationTagOf(installationId)) {
    throw new AppError("share_foreign_installation", "the share belongs to another Strongroom installation");
  }
  return { installationTag: tag, bytes };
}

// Two shares with the same x coordinate are the same custodian's share entered twice.
export function shareIndexOf(share: ParsedShare, threshold: number): number {
  return threshold === 1 ? 0 : share.bytes[share.bytes.length - 1]!;
}

function checksumOf(tag: string, bytes: Buffer): Buffer {
  return createHash("sha256").update(tag).update(bytes).digest().subarray(0, checksumLength);
}
