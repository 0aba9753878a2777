// Password hashing with argon2id at OWASP parameters, re-hash when parameters change, and the
// NIST 800-63B policy: at least 12 characters, not a common password, no composition rules.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PasswordJob, PasswordJobResult } from "./password-jobs.ts";
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

// Argon2 is deliberately slow. It runs on worker threads of its own at a lower scheduling priority
// (password-hashing-worker.mjs), at most (cores - 1) at once, the rest queued: a burst of sign-ins
// takes neither every core nor the event loop's turn on one.
const poolSize = Math.max(1, availableParallelism() - 1);
const idleWorkers: Worker[] = [];
let startedWorkers = 0;
const queue: { job: PasswordJob; resolve(value: string | boolean): void; reject(error: Error): void }[] = [];

function dispatch(): void {
  while (queue.length > 0) {
    let worker = idleWorkers.pop();
    if (!worker && startedWorkers < poolSize) {
      worker = new Worker(new URL("./password-hashing-worker.mjs", import.meta.url));
      startedWorkers += 1;
    }
    if (!worker) return;
    const running = worker;
    const pending = queue.shift()!;
    // Referenced only while it works, so an idle pool never keeps the process alive.
    running.ref();
    const onMessage = (result: PasswordJobResult) => {
      running.off("error", onError);
      running.unref();
      idleWorkers.push(running);
      if (result.ok) pending.resolve(result.value);
      else pending.reject(new Error("password hashing failed"));
      dispatch();
    };
    const onError = () => {
      running.off("message", onMessage);
      startedWorkers -= 1;
      void running.terminate();
      pending.reject(new Error("the password hashing worker stopped"));
      dispatch();
    };
    running.once("message", onMessage);
    running.once("error", onError);
    running.postMessage(pending.job);
  }
}

function runPasswordJob(job: PasswordJob): Promise<string | boolean> {
  return new Promise((resolve, reject) => {
    queue.push({ job, resolve, reject });
    dispatch();
  });
}

export async function hashPassword(password: string): Promise<string> {
  return String(await runPasswordJob({ kind: "hash", password: password.normalize("NFKC"), options: { ...passwordHashParameters } }));
}

// A stand-in hash so a login for an unknown e-mail costs the same time as a real one.
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  decoyHash ??= hashPassword("decoy password that never matches");
  const target = storedHash ?? (await decoyHash);
  try {
    const matches = (await runPasswordJob({ kind: "verify", hash: target, password: password.normalize("NFKC") })) === true;
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
