// @ts-check
// A worker thread that runs argon2 at a lower scheduling priority than the event loop (Linux keeps a
// nice value per thread), so a burst of sign-ins slows other sign-ins, not every other request.
// Plain JavaScript (type-checked): a worker that loads a TypeScript file loads its own copy of Node's
// type stripper, ~17 MB more per thread (measured: 35 MB for a .ts worker, 18 MB for a .mjs one).
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { hashSync, verifySync } from "@node-rs/argon2";

/** @typedef {import("./password-jobs.ts").PasswordJob} PasswordJob */
/** @typedef {import("./password-jobs.ts").PasswordJobResult} PasswordJobResult */

const lowerPriority = 10;

try {
  // "/proc/thread-self" links to "<pid>/task/<tid>": this thread's own id.
  const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, lowerPriority);
} catch {
  // Not Linux, or not allowed: hashing still works, at normal priority.
}

parentPort?.on("message", (/** @type {PasswordJob} */ job) => {
  /** @type {PasswordJobResult} */
  let result;
  try {
    result = { ok: true, value: job.kind === "hash" ? hashSync(job.password, job.options) : verifySync(job.hash, job.password) };
  } catch {
    // The error could describe its input: say only that it failed.
    result = { ok: false };
  }
  parentPort?.postMessage(result);
});
