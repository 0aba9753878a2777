// Unguessable tokens (256 bits from the CSPRNG) handed to clients, stored only as keyed hashes,
// and six-digit one-time codes, stored the same way and bound to what they unlock.
import { randomBytes, randomInt } from "node:crypto";
import type { Vault } from "../../vault/vault.ts";

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function newPublicId(): string {
  return randomBytes(16).toString("hex");
}

export function tokenHash(vault: Vault, token: string): string {
  return vault.mac("token", token);
}

export function newOneTimeCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, "0");
}

export function oneTimeCodeHash(vault: Vault, boundTo: string, code: string): string {
  return vault.mac("one-time-code", `${boundTo}:${code}`);
}

export function oneTimeCodeMatches(vault: Vault, boundTo: string, code: string, hash: string): boolean {
  return vault.macMatches("one-time-code", `${boundTo}:${code}`, hash);
}
