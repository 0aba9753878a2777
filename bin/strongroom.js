#!/usr/bin/env node
// Runs the CLI on a supported Node (>= 22.18, which runs the TypeScript sources directly). On an older
// `node` first on PATH it re-runs itself on the LTS that `npm install` put into node_modules.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { enableCompileCache, registerHooks } from "node:module";
import { fileURLToPath } from "node:url";

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

// The server runs with a young generation of at most 1 MiB per semi-space (V8's default grows it to
// 16 MiB under load) and at most two malloc arenas. Upload and download streams allocate a buffer per
// chunk; with the default, the committed heap stayed at ~110 MB while ~50 MB of it was used, and spent
// chunk buffers waited for a scavenge long enough to add ~60 MB more (measured: peak RSS through a
// 1 GiB upload 278 MB by default, ~190 MB with these limits).
// Two more settings keep downloads from spending most of their time on memory management (measured on a
// 2 GiB download right after a 2 GiB upload, --trace-gc and /proc/PID/stat):
// - the old generation may reach 96 MB before V8 runs a full GC. Chunk buffers in flight survive
//   scavenges and are promoted; after an upload V8 had set the old-space limit just above the live heap
//   (~30 MB), so every few MB of promotions forced a mark-compact: ~100 per GiB, 20-25 ms each, and the
//   download ran at 300-450 MB/s until the limit had grown, 750-800 MB/s after. With the floor: none.
// - glibc keeps up to 32 MiB free at the top of an arena instead of 128 KiB, and serves buffers below
//   4 MiB from its arenas: freed chunk buffers were handed back to the kernel and the next ones faulted in
//   fresh pages (2 GiB: 67,000 minor faults, 1.5 s of system time; 1,000-6,000 with the setting).
// Peak RSS through a 2 GiB upload stays ~160-170 MB. Node takes V8's heap settings only at start, so
// the process replaces itself (same pid) with one started with them; what the operator set is kept.
function serveWithMemoryLimits() {
  if (process.platform === "win32" || typeof process.execve !== "function") return;
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  const v8Flags = ["--max-semi-space-size=1", "--initial-old-space-size=96"]
    .filter((flag) => !given.some((option) => option.startsWith(flag.slice(0, flag.indexOf("=")))));
  if (v8Flags.length === 0) return; // already re-executed, or the operator chose both
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...v8Flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      MALLOC_ARENA_MAX: "2",
      MALLOC_TRIM_THRESHOLD_: String(32 * 1024 * 1024),
      MALLOC_MMAP_THRESHOLD_: String(4 * 1024 * 1024),
      ...process.env,
    },
  );
}
