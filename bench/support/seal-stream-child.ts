// Child process for the memory bench: seals BYTES of plaintext generated on the fly (never held in memory)
// through createSealStream into /dev/null, and prints its own sampled peak RSS as JSON.
// Usage: node bench/support/seal-stream-child.ts BYTES [CHUNK_SIZE]

import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createSealStream, DEFAULT_CHUNK_SIZE } from "../../src/vault/blob-stream.ts";

const total = Number(process.argv[2] ?? "0");
const chunkSize = Number(process.argv[3] ?? DEFAULT_CHUNK_SIZE);
const PIECE = 64 * 1024;
const template = randomBytes(PIECE);

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 10);

let produced = 0;
// A fresh buffer per piece, as a file or socket source would hand out.
const source = new Readable({
  read() {
    if (produced >= total) {
      this.push(null);
      return;
    }
    const size = Math.min(PIECE, total - produced);
    const piece = Buffer.allocUnsafe(size);
    template.copy(piece, 0, 0, size);
    produced += size;
    this.push(piece);
  },
});

const kek = { tenantId: "bench", version: 1, key: randomBytes(32) };
const context = { tenantId: "bench", objectType: "blob", objectId: "memory-bench", objectVersion: 1 };
const started = performance.now();
await pipeline(source, createSealStream(kek, context, { chunkSize }), createWriteStream("/dev/null"));
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss());
process.stdout.write(`${JSON.stringify({ bytes: produced, seconds: (performance.now() - started) / 1000, peakRssBytes: peakRss })}\n`);
