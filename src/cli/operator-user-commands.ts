// `strongroom operator user add|list|disable`: operator accounts are made on the server itself, never
// through the API. `add` reads the password (one line) from stdin or a hidden prompt, then unseals with
// the dev share file when there is one, or with the unseal shares read next; it prints the TOTP
// enrolment URI once.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import type { Config } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import { checkPasswordPolicy } from "../modules/accounts/passwords.ts";
import { addOperator, disableOperator, listOperators, normaliseUsername } from "../modules/operators/operator-accounts.ts";
import { devShareFileName } from "../runtime/dev-unseal.ts";
import { openRuntime, type Runtime } from "../runtime/open-runtime.ts";
import { type Output, readSecretLines, UsageError } from "./cli-io.ts";

export type OperatorUserFlags = { username?: string | undefined; json?: boolean | undefined };

/** Reads `count` secret lines; the prompt is shown only on a terminal. */
export type SecretLineReader = (count: number, prompt: string) => Promise<string[]>;

export async function runOperatorUserCommand(
  action: string | undefined,
  flags: OperatorUserFlags,
  config: Config,
  io: Output,
  readLines: SecretLineReader = stdinLineReader(process.stdin),
): Promise<number> {
  switch (action) {
    case "add":
      return add(flags, config, io, readLines);
    case "list":
      return list(flags, config, io);
    case "disable":
      return disable(flags, config, io);
    default:
      throw new UsageError(`unknown operator user command ${action ?? "(none)"}: use add, list or disable`);
  }
}

async function add(flags: OperatorUserFlags, config: Config, io: Output, readLines: SecretLineReader): Promise<number> {
  const username = normaliseUsername(requireUsername(flags));
  const [password] = await readLines(1, `password for operator ${username}`);
  if (password === undefined) throw new UsageError("expected the password on standard input");
  // Checked before anything is opened, so a weak password costs nothing.
  checkPasswordPolicy(password);
  const runtime = await openRuntime(config);
  try {
    await unsealForCommand(runtime, config, readLines);
    const { operator, otpauthUri } = await addOperator({ db: runtime.database.db, vault: runtime.vault }, { username, password });
    if (flags.json) {
      io.out(JSON.stringify({ operator, otpauthUri }));
      return 0;
    }
    io.out(`Operator ${operator.username} created.`);
    io.out("Add this to an authenticator app now (scan it as a QR code or paste it). It is shown once and cannot be shown again:");
    io.out("");
    io.out(otpauthUri);
    io.out("");
    io.out("Sign-in to the operator API needs the username, the password and the app's current 6-digit code.");
    return 0;
  } finally {
    await runtime.close();
  }
}

async function list(flags: OperatorUserFlags, config: Config, io: Output): Promise<number> {
  const runtime = await openRuntime(config);
  try {
    const operators = await listOperators(runtime.database.db);
    if (flags.json) io.out(JSON.stringify({ operators }));
    else if (operators.length === 0) io.out("There are no operator accounts: the operator API admits by address alone (bootstrap).");
    else for (const operator of operators) io.out(`${operator.username}  created ${operator.createdAt}  ${operator.disabledAt ? `disabled ${operator.disabledAt}` : "active"}`);
    return 0;
  } finally {
    await runtime.close();
  }
}

async function disable(flags: OperatorUserFlags, config: Config, io: Output): Promise<number> {
  const username = requireUsername(flags);
  const runtime = await openRuntime(config);
  try {
    const operator = await disableOperator(runtime.database.db, username);
    if (flags.json) io.out(JSON.stringify({ operator }));
    else io.out(`Operator ${operator.username} disabled at ${operator.disabledAt}; their sessions are ended.`);
    return 0;
  } finally {
    await runtime.close();
  }
}

function requireUsername(flags: OperatorUserFlags): string {
  if (!flags.username) throw new UsageError("missing --username");
  return flags.username;
}

// The dev default keeps its one share beside the data; otherwise custodians enter a threshold of shares.
async function unsealForCommand(runtime: Runtime, config: Config, readLines: SecretLineReader): Promise<void> {
  const status = await runtime.vault.status();
  if (!status.initialized) throw new AppError("not_initialized", "the installation is not initialised: run `strongroom operator init` (or start the dev server once)");
  const devShareFile = join(config.dataDir, devShareFileName);
  const shares = existsSync(devShareFile) ? [readFileSync(devShareFile, "utf8").trim()] : await readLines(status.threshold, "unseal share");
  if (shares.length < status.threshold) throw new UsageError(`expected ${status.threshold} unseal share(s) on standard input, got ${shares.length}`);
  for (const share of shares) await runtime.vault.submitShare(share);
  if (runtime.vault.isSealed()) throw new AppError("unseal_failed", "the shares did not unseal the installation");
}

// Piped input: one reader for the whole command, so the password and the shares that follow it come
// from the same stream in order. A terminal: hidden prompts.
export function stdinLineReader(input: Readable & { isTTY?: boolean }): SecretLineReader {
  if (input.isTTY) return readSecretLines;
  let lines: AsyncIterator<string> | undefined;
  return async (count) => {
    lines ??= createInterface({ input, terminal: false })[Symbol.asyncIterator]();
    const read: string[] = [];
    while (read.length < count) {
      const next = await lines.next();
      if (next.done) break;
      const line = next.value.trim();
      if (line) read.push(line);
    }
    return read;
  };
}
