// Equality of two secrets in time that depends only on their lengths (the lengths are not secret here:
// every caller compares values of a fixed, public format).
import { timingSafeEqual } from "node:crypto";

export function secretsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
