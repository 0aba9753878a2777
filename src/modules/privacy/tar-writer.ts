// A streaming POSIX tar (ustar) writer for exports: each entry is a 512-byte header, its bytes, and
// padding to 512; two zero blocks end the archive. File bytes are streamed through, never collected,
// and checked against the size announced in the header. Sizes of 8 GiB and more use the base-256
// size field that GNU tar, bsdtar and Python's tarfile read.
import type { Readable } from "node:stream";

const block = 512;
const maxOctalSize = 8 ** 11 - 1;

export type TarEntry = { name: string; size: number; mtime: Date; body: Buffer | Readable | AsyncIterable<Buffer> };

export function tarHeader(name: string, size: number, mtime: Date): Buffer {
  const nameBytes = Buffer.from(name, "utf8");
  // Entry names are made by the exporter from ids, never from user input; still, refuse anything odd.
  if (nameBytes.length === 0 || nameBytes.length > 100 || name.startsWith("/") || name.split("/").includes("..") || /[\0-\x1f]/.test(name)) {
    throw new Error(`tar entry name not allowed: ${JSON.stringify(name)}`);
  }
  if (!Number.isSafeInteger(size) || size < 0) throw new Error("tar entry size must be a non-negative integer");
  const header = Buffer.alloc(block, 0);
  nameBytes.copy(header, 0);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  if (size <= maxOctalSize) writeOctal(header, 124, 12, size);
  else {
    header[124] = 0x80;
    let remaining = BigInt(size);
    for (let index = 135; index > 124; index--) {
      header[index] = Number(remaining & 0xffn);
      remaining >>= 8n;
    }
  }
  writeOctal(header, 136, 12, Math.max(0, Math.floor(mtime.getTime() / 1000)));
  header.fill(0x20, 148, 156);
  header.write("0", 156, "ascii");
  header.write("ustar\u000000", 257, "binary");
  header.write("strongroom", 265, "ascii");
  header.write("strongroom", 297, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "binary");
  return header;
}

export function tarPadding(size: number): Buffer {
  const rest = size % block;
  return Buffer.alloc(rest === 0 ? 0 : block - rest, 0);
}

export function tarEnd(): Buffer {
  return Buffer.alloc(block * 2, 0);
}

// Yields one entry's bytes; throws if the body is not exactly the announced size.
export async function* tarEntryBytes(entry: TarEntry): AsyncGenerator<Buffer> {
  yield tarHeader(entry.name, entry.size, entry.mtime);
  let written = 0;
  if (Buffer.isBuffer(entry.body)) {
    written = entry.body.length;
    if (written === entry.size) yield entry.body;
  } else {
    for await (const chunk of entry.body as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > entry.size) break;
      yield chunk;
    }
  }
  if (written !== entry.size) throw new Error(`tar entry ${entry.name}: ${written} bytes where ${entry.size} were announced`);
  yield tarPadding(entry.size);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, "ascii");
}
