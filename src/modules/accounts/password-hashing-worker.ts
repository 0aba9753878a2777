// A worker thread that runs argon2 at a lower scheduling priority than the event loop (Linux keeps a
// nice value per thread), so a burst of sign-ins slows other sign-ins, not every other request.
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { hashSync, verifySync, type Options } from "@node-rs/argon2";

export type PasswordJob =
  | { kind: "hash"; password: string; options: Options }
  | { kind: "verify"; hash: string; password: string };

export type PasswordJobResult = { ok: true; value: string | boolean } | { ok: false };

const lowerPriority = 10;

try {
  // "/proc/thread-self" links to "<pid>/task/<tid>": this thread's own id.
  const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, lowerPriority);
} catch {
  // Not Linux, or not allowed: hashing still works, at normal priority.
}

parentPort?.on("message", (job: PasswordJob) => {
  let result: PasswordJobResult;
  try {
    result = { ok: true, value: job.kind === "hash" ? hashSync(job.password, job.options) : verifySync(job.hash, job.password) };
  } catch {
    // The error could describe its input: say only that it failed.
    result = { ok: false };
  }
  parentPort?.postMessage(result);
});
