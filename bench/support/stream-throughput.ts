// Throughput of the blob streams (src/vault/blob-stream.ts), in memory and file to file, measured in a
// child process started the way the server is (bin/server-runtime.js: its V8 flags and malloc settings),
// since that is where uploads are sealed and downloads opened. bench/crypto.ts runs it.
// Usage (child): node [server flags] bench/support/stream-throughput.ts memory CHUNK_SIZE
//                node [server flags] bench/support/stream-throughput.ts file|copy WORK_DIR PLAIN_PATH BYTES
// Prints one JSON object of MB/s figures (1 MB = 10^6 bytes, as OpenSSL counts), each a median.

import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { asServerProcess } from "../../bin/server-runtime.js";
import { createOpenStream, createSealStream, sealedSizeFor } from "../../src/vault/blob-stream.ts";
import { median } from "./bench-result.ts";
import type { KeyEncryptionKey, KeyEncryptionKeyLookup } from "../../src/vault/key-encryption-key.ts";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** Every figure, ours and the references' alike, is the median of this many runs (the machine is shared and noisy). */
export const REPEATS = 5;
const IN_MEMORY_BYTES = GIB;
const SOURCE_PIECE = 64 * 1024; // in-memory source: pieces the size fs and network streams hand out by default
const FILE_STREAM_BUFFER = MIB; // highWaterMark of the fs read/write streams in the file-to-file pipeline

const kek: KeyEncryptionKey = { tenantId: "bench", version: 1, key: randomBytes(32) };
const lookup: KeyEncryptionKeyLookup = async () => kek;
const context = { tenantId: "bench", objectType: "blob", objectId: "crypto-bench", objectVersion: 1 };

/** Runs this file as a child with the server's runtime settings and returns what it printed. */
export async function inServerRuntime<T>(args: string[]): Promise<T> {
  const child = asServerProcess(fileURLToPath(import.meta.url), args);
  const { stdout } = await promisify(execFile)(process.execPath, child.args, { env: child.env, maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as T;
}

/**
 * Median MB/s over `repeats` runs after one untimed warm-up run; `prepare` runs untimed before each. The
 * warm-up is there for the steady state a long-running server sees: in a fresh process the first GiB
 * or two were measured at half speed or less (the malloc arenas and V8's heap still growing), which
 * with five runs could decide the median.
 */
export async function medianThroughput(
  repeats: number,
  bytes: number,
  work: () => Promise<unknown>,
  prepare: () => Promise<unknown> = async () => {},
): Promise<number> {
  await prepare();
  await work();
  const rates: number[] = [];
  for (let i = 0; i < repeats; i++) {
    await prepare();
    const started = performance.now();
    await work();
    rates.push(bytes / ((performance.now() - started) / 1000) / 1e6);
  }
  return median(rates);
}

async function measureInMemory(chunkSize: number): Promise<{ seal: number; open: number }> {
  const block = randomBytes(16 * MIB);
  const seal = await medianThroughput(REPEATS, IN_MEMORY_BYTES, () =>
    pipeline(Readable.from(piecesOf(block, IN_MEMORY_BYTES)), createSealStream(kek, context, { chunkSize }), discard()),
  );
  const parts: Buffer[] = [];
  await pipeline(Readable.from(piecesOf(block, IN_MEMORY_BYTES)), createSealStream(kek, context, { chunkSize }), collect(parts));
  const sealed = Buffer.concat(parts);
  parts.length = 0;
  const open = await medianThroughput(REPEATS, IN_MEMORY_BYTES, () =>
    pipeline(Readable.from(piecesOf(sealed, sealed.length)), createOpenStream(lookup, context), discard()),
  );
  return { seal, open };
}

async function measureFilePipeline(workDir: string, plainPath: string, bytes: number): Promise<{ seal: number; open: number }> {
  // Node's default 64 KiB/16 KiB fs stream buffers make fs round trips, not crypto, the bottleneck.
  const fileBuffer = { highWaterMark: FILE_STREAM_BUFFER };
  const sealedPath = join(workDir, "sealed.bin");
  const openedPath = join(workDir, "opened.bin");
  const seal = await medianThroughput(
    REPEATS,
    bytes,
    () => pipeline(createReadStream(plainPath, fileBuffer), createSealStream(kek, context), createWriteStream(sealedPath, fileBuffer)),
    () => rm(sealedPath, { force: true }),
  );
  const open = await medianThroughput(
    REPEATS,
    bytes,
    () => pipeline(createReadStream(sealedPath, fileBuffer), createOpenStream(lookup, context), createWriteStream(openedPath, fileBuffer)),
    () => rm(openedPath, { force: true }),
  );
  // Untimed: the figures only count if the round trip is right.
  if ((await stat(sealedPath)).size !== sealedSizeFor(bytes)) throw new Error("sealed size mismatch");
  if ((await sha256File(plainPath)) !== (await sha256File(openedPath))) throw new Error("round trip mismatch");
  await rm(sealedPath);
  await rm(openedPath);
  return { seal, open };
}

/** The same fs streams and buffers as measureFilePipeline with nothing in between: the I/O ceiling. */
async function measureFileCopy(workDir: string, plainPath: string, bytes: number): Promise<{ copy: number }> {
  const fileBuffer = { highWaterMark: FILE_STREAM_BUFFER };
  const copyPath = join(workDir, "copy.bin");
  const copy = await medianThroughput(
    REPEATS,
    bytes,
    () => pipeline(createReadStream(plainPath, fileBuffer), createWriteStream(copyPath, fileBuffer)),
    () => rm(copyPath, { force: true }),
  );
  if ((await stat(copyPath)).size !== bytes) throw new Error("copy size mismatch");
  await rm(copyPath);
  return { copy };
}

function* piecesOf(source: Buffer, total: number): Generator<Buffer> {
  for (let offset = 0; offset < total; offset += SOURCE_PIECE) {
    const start = offset % source.length;
    yield source.subarray(start, Math.min(start + SOURCE_PIECE, source.length, start + total - offset));
  }
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

function collect(parts: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, ...args] = process.argv.slice(2);
  let figures: object;
  if (mode === "memory") figures = await measureInMemory(Number(args[0]));
  else if (mode === "file") figures = await measureFilePipeline(args[0]!, args[1]!, Number(args[2]));
  else if (mode === "copy") figures = await measureFileCopy(args[0]!, args[1]!, Number(args[2]));
  else throw new Error(`unknown mode ${String(mode)}`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
