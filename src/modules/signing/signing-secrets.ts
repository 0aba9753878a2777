// The secrets of a signing link: a 256-bit link token and a six-digit PIN per recipient, both kept only
// as keyed hashes (the PIN bound to its recipient), and the short-lived signer session that the right
// PIN earns: `<expiry ms>.<mac>`, bound to the recipient and their current PIN, so a new PIN ends it.
import type { Vault } from "../../vault/vault.ts";
import { newOneTimeCode, newToken, oneTimeCodeHash, oneTimeCodeMatches } from "../auth/secret-tokens.ts";

// newToken(): 32 random bytes, base64url without padding.
export const signingTokenPattern = "^[A-Za-z0-9_-]{43}$";
const signingToken = new RegExp(signingTokenPattern);
export const signerSessionMinutes = 30;
export const signerSessionHeader = "x-signing-session";
const sessionFormat = /^(\d{13,15})\.([A-Za-z0-9_-]{43})$/;

export function newSigningToken(): string {
  return newToken();
}

export function isSigningToken(value: unknown): value is string {
  return typeof value === "string" && signingToken.test(value);
}

export function signingTokenHash(vault: Vault, token: string): string {
  return vault.mac("token", `signing-link:${token}`);
}

export function newSigningPin(): string {
  return newOneTimeCode();
}

export function signingPinHash(vault: Vault, recipientId: string, pin: string): string {
  return oneTimeCodeHash(vault, `signing-pin:${recipientId}`, pin);
}

export function signingPinMatches(vault: Vault, recipientId: string, pin: string, hash: string): boolean {
  return oneTimeCodeMatches(vault, `signing-pin:${recipientId}`, pin, hash);
}

export function newSignerSession(vault: Vault, recipientId: string, pinHash: string, now = Date.now()): { session: string; expiresAt: string } {
  const expires = now + signerSessionMinutes * 60_000;
  return { session: `${expires}.${vault.mac("token", `signer-session:${recipientId}:${pinHash}:${expires}`)}`, expiresAt: new Date(expires).toISOString() };
}

export function signerSessionValid(vault: Vault, recipientId: string, pinHash: string | null, session: unknown, now = Date.now()): boolean {
  if (typeof session !== "string" || !pinHash) return false;
  const match = sessionFormat.exec(session);
  if (!match) return false;
  const expires = Number(match[1]);
  if (expires <= now || expires > now + signerSessionMinutes * 60_000) return false;
  return vault.macMatches("token", `signer-session:${recipientId}:${pinHash}:${expires}`, match[2]!);
}
