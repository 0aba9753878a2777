// The `strongroom` command: `server`, `operator …`. Exit codes: 0 done, 1 failed, 2 usage error.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/config.ts";
import { isAppError } from "../errors/app-error.ts";
import { processOutput, UsageError, type Output } from "./cli-io.ts";

// Each command's module is loaded when it runs: the server's module graph alone takes about a second
// to load, which a `backup run` (or any other short command) need not pay.

const usage = `usage:
  strongroom server [--port N] [--http-port N] [--host H] [--data-dir DIR] [--config FILE]
  strongroom operator init --shares N --threshold K [--json]
  strongroom operator unseal [--server URL] [--ca FILE]       (reads one share from stdin or a prompt)
  strongroom operator seal|status|rotate [--server URL] [--ca FILE] [--json]
  strongroom operator rekey --shares N --threshold K [--json] (reads the current shares from stdin)
  strongroom operator user add --username NAME [--json]       (reads the password, then the unseal shares unless dev, from stdin)
  strongroom operator user list [--json] | user disable --username NAME
  strongroom dev outbox [--limit N] [--json]                  (dev default only: messages that were "sent")
  strongroom audit verify [--tenant ID] [--json]              (shares on stdin unless a dev share exists)
  strongroom verify FILE.pdf --public-key KEYS [--seal SEAL.json] [--json]   (offline; exit 0 valid, 1 invalid)
  strongroom verify-key export                                (prints KEYS: service public keys + signing certificates)
  strongroom backup run [--continuous] [--json]              (shares on stdin unless a dev share exists)
  strongroom backup list [--destination NAME] [--json]
  strongroom backup verify ID [--destination NAME] [--json]
  strongroom backup restore ID --destination NAME [--json]   (onto the configured, empty database and blob store; shares on stdin)
common: --config FILE, --data-dir DIR (or STRONGROOM_DATA_DIR)`;

const options = {
  config: { type: "string" },
  "data-dir": { type: "string" },
  port: { type: "string" },
  "http-port": { type: "string" },
  host: { type: "string" },
  shares: { type: "string" },
  threshold: { type: "string" },
  json: { type: "boolean" },
  server: { type: "string" },
  ca: { type: "string" },
  limit: { type: "string" },
  tenant: { type: "string" },
  username: { type: "string" },
  "public-key": { type: "string" },
  seal: { type: "string" },
  continuous: { type: "boolean" },
  destination: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    const [command, verb, ...rest] = positionals;
    if (values.help || !command) {
      io.out(usage);
      return values.help ? 0 : 2;
    }
    // Offline: needs no configuration, database or server.
    if (command === "verify") return await (await import("./verify-commands.ts")).runVerifyCommand([verb, ...rest].filter((item): item is string => item !== undefined), values, io);
    const config = loadConfig({
      file: values.config ?? process.env.STRONGROOM_CONFIG,
      env: process.env,
      overrides: { dataDir: values["data-dir"], "server.port": values.port, "server.httpPort": values["http-port"], "server.host": values.host },
    });
    if (command === "server") {
      if (verb) throw new UsageError(`unexpected argument ${verb}`);
      return await serve(config);
    }
    if (command === "operator") {
      const [action, ...extra] = verb === "user" ? rest : [undefined, ...rest];
      if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
      return await (await import("./operator-commands.ts")).runOperatorCommand(verb, { ...values, action }, config, io);
    }
    if (command === "audit") {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      return await (await import("./audit-commands.ts")).runAuditCommand(verb, values, config, io);
    }
    if (command === "verify-key") {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      return await (await import("./verify-commands.ts")).runVerifyKeyCommand(verb, config, io);
    }
    if (command === "backup") {
      return await (await import("./backup-commands.ts")).runBackupCommand(verb, rest, values, config, io);
    }
    if (command === "dev") {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      return await (await import("./dev-commands.ts")).runDevCommand(verb, values, config, io);
    }
    throw new UsageError(`unknown command ${command}`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`error: ${(error as Error).message}\n${usage}`);
      return 2;
    }
    if (isAppError(error)) {
      io.err(`error: ${error.code}: ${error.message}`);
      return 1;
    }
    io.err(`error: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

async function serve(config: ReturnType<typeof loadConfig>): Promise<number> {
  const { createLogger } = await import("../log/logger.ts");
  const log = createLogger({ level: config.logLevel });
  const { startServer } = await import("../http/start-server.ts");
  const server = await startServer(config, log, packageVersion());
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "stopping");
      server.stop().finally(resolve);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
