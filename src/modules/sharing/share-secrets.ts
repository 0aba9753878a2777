// The secrets of a share link: a 256-bit token and an optional six-digit PIN, both kept only as keyed
// hashes (the PIN bound to its link), and the short-lived download grant that the right PIN earns.
import type { Vault } from "../../vault/vault.ts";
import { newOneTimeCode, newToken, oneTimeCodeHash, oneTimeCodeMatches } from "../auth/secret-tokens.ts";

// newToken(): 32 random bytes, base64url without padding.
export const shareTokenPattern = "^[A-Za-z0-9_-]{43}$";
const shareToken = new RegExp(shareTokenPattern);
export const downloadGrantMinutes = 15;
const grantFormat = /^(\d{13,15})\.([A-Za-z0-9_-]{43})$/;

export function newShareToken(): string {
  return newToken();
}

export function isShareToken(value: unknown): value is string {
  return typeof value === "string" && shareToken.test(value);
}

export function shareTokenHash(vault: Vault, token: string): string {
  return vault.mac("token", `share-link:${token}`);
}

export function newSharePin(): string {
  return newOneTimeCode();
}

export function sharePinHash(vault: Vault, shareId: string, pin: string): string {
  return oneTimeCodeHash(vault, `share-pin:${shareId}`, pin);
}

export function sharePinMatches(vault: Vault, shareId: string, pin: string, hash: string): boolean {
  return oneTimeCodeMatches(vault, `share-pin:${shareId}`, pin, hash);
}

// `<expiry ms>.<mac>`: signed, bound to the share, useless after its expiry or for another link.
export function newDownloadGrant(vault: Vault, shareId: string, now = Date.now()): { grant: string; expiresAt: string } {
  const expires = now + downloadGrantMinutes * 60_000;
  return { grant: `${expires}.${vault.mac("token", `share-grant:${shareId}:${expires}`)}`, expiresAt: new Date(expires).toISOString() };
}

export function downloadGrantValid(vault: Vault, shareId: string, grant: unknown, now = Date.now()): boolean {
  if (typeof grant !== "string") return false;
  const match = grantFormat.exec(grant);
  if (!match) return false;
  const expires = Number(match[1]);
  if (expires <= now || expires > now + downloadGrantMinutes * 60_000) return false;
  return vault.macMatches("token", `share-grant:${shareId}:${expires}`, match[2]!);
}
