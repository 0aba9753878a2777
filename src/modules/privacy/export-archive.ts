// Turns a sequence of export entries into one streamed tar archive. Every file's SHA-256 is computed
// as it passes and written, a thousand files at a time, to checksums/NNNNNN.sha256 in `sha256sum`
// format, so memory stays bounded however large the export is. See docs/export-format.md.
import { createHash, type Hash } from "node:crypto";
import { Readable } from "node:stream";
import { tarEnd, tarEntryBytes, type TarEntry } from "./tar-writer.ts";

const sumsPerFile = 1000;

export function jsonEntry(name: string, value: unknown): TarEntry {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
  return { name, size: body.length, mtime: new Date(), body };
}

export function jsonLinesEntry(name: string, values: unknown[]): TarEntry {
  const body = Buffer.from(values.map((value) => `${JSON.stringify(value)}\n`).join(""), "utf8");
  return { name, size: body.length, mtime: new Date(), body };
}

export function sequenceName(prefix: string, index: number, extension: string): string {
  return `${prefix}/${String(index).padStart(6, "0")}.${extension}`;
}

async function* hashing(body: TarEntry["body"], hash: Hash): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    hash.update(body);
    yield body;
    return;
  }
  for await (const chunk of body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    yield chunk;
  }
}

export function streamArchive(entries: AsyncIterable<TarEntry>): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    let sums: string[] = [];
    let sumFiles = 0;
    const flush = async function* (): AsyncGenerator<Buffer> {
      if (sums.length === 0) return;
      sumFiles += 1;
      const body = Buffer.from(sums.join(""), "utf8");
      sums = [];
      yield* tarEntryBytes({ name: sequenceName("checksums", sumFiles, "sha256"), size: body.length, mtime: new Date(), body });
    };
    for await (const entry of entries) {
      const hash = createHash("sha256");
      yield* tarEntryBytes({ ...entry, body: hashing(entry.body, hash) });
      sums.push(`${hash.digest("hex")}  ${entry.name}\n`);
      if (sums.length >= sumsPerFile) yield* flush();
    }
    yield* flush();
    yield tarEnd();
  }
  return Readable.from(generate(), { objectMode: false });
}
