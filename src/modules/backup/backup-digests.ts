// SHA-256 over streams: a pass-through that hashes what flows by, and hashing a whole stream.
import { createHash, type Hash } from "node:crypto";
import { Transform, type Readable } from "node:stream";

export type Digest = { sha256: string; size: number };

export function digestingPassThrough(): { stream: Transform; digest(): Digest } {
  const hash: Hash = createHash("sha256");
  let size = 0;
  let result: Digest | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return {
    stream,
    digest() {
      result ??= { sha256: hash.digest("hex"), size };
      return result;
    },
  };
}

export async function digestOf(source: Readable): Promise<Digest> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

/** Runs work over items with at most `limit` in flight; the first failure rejects (the rest finish first). */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
