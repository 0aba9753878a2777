// `strongroom operator …`: initialise and rekey work on the configured database directly (offline or
// beside running nodes); unseal, seal, status and rotate talk to a running server.
import type { Config } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import { openRuntime } from "../runtime/open-runtime.ts";
import { callServer, type Output, positiveInteger, readSecretLines, serverTarget, UsageError } from "./cli-io.ts";
import { runOperatorUserCommand } from "./operator-user-commands.ts";

export type OperatorFlags = {
  shares?: string | undefined;
  threshold?: string | undefined;
  json?: boolean | undefined;
  server?: string | undefined;
  ca?: string | undefined;
  /** `operator user <action>`: add, list or disable. */
  action?: string | undefined;
  username?: string | undefined;
};

export async function runOperatorCommand(verb: string | undefined, flags: OperatorFlags, config: Config, io: Output): Promise<number> {
  switch (verb) {
    case "init":
      return initialize(flags, config, io);
    case "rekey":
      return rekey(flags, config, io);
    case "unseal":
      return unseal(flags, config, io);
    case "seal":
      return simpleCall(flags, config, io, "POST", "/v1/sys/seal");
    case "status":
      return simpleCall(flags, config, io, "GET", "/v1/sys/seal-status");
    case "rotate":
      return simpleCall(flags, config, io, "POST", "/v1/sys/rotate");
    case "user":
      return runOperatorUserCommand(flags.action, flags, config, io);
    default:
      throw new UsageError(`unknown operator command ${verb ?? "(none)"}: use init, unseal, seal, status, rekey, rotate or user`);
  }
}

async function initialize(flags: OperatorFlags, config: Config, io: Output): Promise<number> {
  const shares = positiveInteger(flags.shares, "--shares");
  const threshold = positiveInteger(flags.threshold, "--threshold");
  const runtime = await openRuntime(config);
  try {
    const result = await runtime.vault.initialize(shares, threshold);
    printShares(io, result.shares, threshold, flags.json, "initialised");
    return 0;
  } finally {
    await runtime.close();
  }
}

async function rekey(flags: OperatorFlags, config: Config, io: Output): Promise<number> {
  const shares = positiveInteger(flags.shares, "--shares");
  const threshold = positiveInteger(flags.threshold, "--threshold");
  const runtime = await openRuntime(config);
  try {
    const status = await runtime.vault.status();
    if (!status.initialized) throw new AppError("not_initialized", "the installation is not initialised");
    const current = await readSecretLines(status.threshold, "current unseal share");
    const result = await runtime.vault.rekey(current, shares, threshold);
    printShares(io, result.shares, threshold, flags.json, "rekeyed (the old shares no longer work)");
    return 0;
  } finally {
    await runtime.close();
  }
}

async function unseal(flags: OperatorFlags, config: Config, io: Output): Promise<number> {
  const target = serverTarget(config, flags.server, flags.ca);
  const [share] = await readSecretLines(1, "unseal share");
  const { status, json } = await callServer(target, "POST", "/v1/sys/unseal", { share });
  return report(io, status, json, flags.json);
}

async function simpleCall(flags: OperatorFlags, config: Config, io: Output, method: string, path: string): Promise<number> {
  const { status, json } = await callServer(serverTarget(config, flags.server, flags.ca), method, path);
  return report(io, status, json, flags.json);
}

function report(io: Output, status: number, json: Record<string, unknown>, asJson: boolean | undefined): number {
  if (status >= 400) {
    io.err(`error: ${String(json.error ?? status)}: ${String(json.message ?? "request failed")}`);
    return 1;
  }
  if (asJson) io.out(JSON.stringify(json));
  else for (const [key, value] of Object.entries(json)) io.out(`${key}: ${String(value)}`);
  return 0;
}

function printShares(io: Output, shares: string[], threshold: number, asJson: boolean | undefined, what: string): void {
  if (asJson) {
    io.out(JSON.stringify({ shares, threshold }));
    return;
  }
  io.out(`Strongroom ${what}: ${shares.length} unseal share(s), any ${threshold} of which unseal a node.`);
  io.out("Give each share to a different key custodian. They are shown once and never stored.\n");
  shares.forEach((share, index) => io.out(`Unseal share ${index + 1}: ${share}`));
}
