// What the password-hashing worker (password-hashing-worker.mjs) is sent and answers.
import type { Options } from "@node-rs/argon2";

export type PasswordJob =
  | { kind: "hash"; password: string; options: Options }
  | { kind: "verify"; hash: string; password: string };

export type PasswordJobResult = { ok: true; value: string | boolean } | { ok: false };
