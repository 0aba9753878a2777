// Password hashing with argon2id at OWASP parameters, re-hash when parameters change, and the
// NIST 800-63B policy: at least 12 characters, not a common password, no composition rules.
import { availableParallelism } from "node:os";
import { hash, verify } from "@node-rs/argon2";
import { AppError } from "../../errors/app-error.ts";
import { isCommonPassword } from "./common-passwords.ts";

// OWASP: argon2id, m = 19 MiB, t = 2, p = 1 (the minimum); we use a little more memory.
export const passwordHashParameters = { algorithm: 2 /* argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const minimumPasswordLength = 12;
export const maximumPasswordLength = 256;

export function checkPasswordPolicy(password: string): void {
  const length = [...password].length;
  if (length < minimumPasswordLength) {
    throw new AppError("password_too_weak", `the password must have at least ${minimumPasswordLength} characters`);
  }
  if (length > maximumPasswordLength) {
    throw new AppError("password_too_weak", `the password must have at most ${maximumPasswordLength} characters`);
  }
  if (isCommonPassword(password)) {
    throw new AppError("password_too_weak", "this password is too common: choose another");
  }
}

// Argon2 is deliberately slow and runs on worker threads; left unbounded, a burst of sign-ins takes
// every core and the event loop stops answering. At most (cores - 1) run at once; the rest queue.
const maxConcurrentHashes = Math.max(1, availableParallelism() - 1);
let runningHashes = 0;
const waitingHashes: (() => void)[] = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (runningHashes >= maxConcurrentHashes) await new Promise<void>((resolve) => waitingHashes.push(resolve));
  else runningHashes += 1;
  try {
    return await work();
  } finally {
    const next = waitingHashes.shift();
    if (next) next();
    else runningHashes -= 1;
  }
}

export function hashPassword(password: string): Promise<string> {
  return withHashSlot(() => hash(password.normalize("NFKC"), passwordHashParameters));
}

// A stand-in hash so a login for an unknown e-mail costs the same time as a real one.
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  decoyHash ??= hashPassword("decoy password that never matches");
  const target = storedHash ?? (await decoyHash);
  try {
    const matches = await withHashSlot(() => verify(target, password.normalize("NFKC")));
    return matches && storedHash !== null;
  } catch {
    return false;
  }
}

export function needsRehash(storedHash: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(storedHash);
  if (!match) return true;
  const [, memory, time, parallelism] = match.map(Number);
  return memory !== passwordHashParameters.memoryCost || time !== passwordHashParameters.timeCost || parallelism !== passwordHashParameters.parallelism;
}
