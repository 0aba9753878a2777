#!/usr/bin/env node
// Runs the CLI on a supported Node (>= 22.18, which runs the TypeScript sources directly). On an older
// `node` first on PATH it re-runs itself on the LTS that `npm install` put into node_modules.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { enableCompileCache, registerHooks } from "node:module";
import { fileURLToPath } from "node:url";
import { serverMallocEnv, serverV8Flags } from "./server-runtime.js";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  if (process.argv[2] === "server") serveWithMemoryLimits();
  // Backups copy many blobs at once and each copy waits on fsync in libuv's pool (4 threads by default):
  // more threads let those waits overlap. Read when the pool starts, i.e. at the first file operation.
  if (process.argv[2] === "backup") process.env.UV_THREADPOOL_SIZE ??= "16";
  // Node's compile cache keeps V8's compiled code and the sources with their types stripped, so a
  // command starts in about half the time and the server without loading the TypeScript stripper
  // (~20 MB less memory, measured). It lives inside the project, owned by whoever installed it: a cache in a
  // shared temporary directory could be planted by another local user. If it cannot be written,
  // everything still runs, uncached.
  enableCompileCache(fileURLToPath(new URL("../node_modules/.cache/strongroom-compile", import.meta.url)));
  // kysely and zod from the single-file bundles `npm install` made (~120 ms less per start, measured).
  const { useVendorBundles } = await import("./vendor-bundles.js");
  useVendorBundles(fileURLToPath(new URL("..", import.meta.url)), registerHooks);
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(process.argv.slice(2));
} else {
  const local = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(local)) {
    process.stderr.write("strongroom needs Node.js >= 22.18: run `npm install` in the project to fetch it\n");
    process.exit(1);
  }
  const child = spawn(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

// Node takes V8's heap settings only at start, so the server replaces itself (same pid) with a process
// started with the settings in server-runtime.js; what the operator set (flags, NODE_OPTIONS, MALLOC_*)
// is kept.
function serveWithMemoryLimits() {
  if (process.platform === "win32" || typeof process.execve !== "function") return;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  // A flag counts as chosen when the operator gave it in any form: with a value, or as --no-….
  const nameOf = (flag) => flag.split("=")[0].replace(/^--no-/, "--").replaceAll("_", "-");
  const chosen = new Set(given.filter((option) => option.startsWith("--")).map(nameOf));
  const v8Flags = serverV8Flags.filter((flag) => !chosen.has(nameOf(flag)));
  if (v8Flags.length === 0) return; // already re-executed, or the operator chose every flag
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...v8Flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { ...serverMallocEnv, ...process.env },
  );
}
