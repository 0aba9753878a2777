// The blob store contract shared by the file-system and S3 back ends, and its key rules.
// Blob stores sit below the vault's barrier: they only ever receive ciphertext and do no crypto.

import type { Readable, Transform } from "node:stream";
import { AppError } from "../errors/app-error.ts";

/** An inclusive byte range, as in HTTP's `Range: bytes=start-end`. */
export type ByteRange = { start: number; end: number };

export type BlobStore = {
  /** Streams the body into the key, replacing any previous blob atomically; rejects with the source's own error if it fails. */
  put(key: string, body: AsyncIterable<Uint8Array> | Readable): Promise<{ size: number }>;
  /**
   * The blob's bytes, or the inclusive range of them (an end past the blob is clamped).
   * Throws blob_not_found if absent, range_not_satisfiable if start is at or past the end.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  stat(key: string): Promise<{ size: number } | undefined>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Every key that starts with prefix ("" for all). The order is unspecified (the file store and
   * AWS give ascending byte order; not every S3-compatible server does). An invalid prefix fails the iteration.
   */
  list(prefix: string): AsyncIterable<string>;
  /**
   * Optional (the file store): the whole blob read into `buffer`, for copies of many blobs that reuse a
   * few buffers instead of allocating one per blob. Returns the bytes as a view of `buffer`, or
   * undefined if the blob does not fit. Throws blob_not_found if absent.
   */
  readInto?(key: string, buffer: Buffer): Promise<Buffer | undefined>;
};

// Lower case only, so keys mean the same on case-insensitive file systems. Every segment starts
// with a letter or digit: no empty segments (leading, trailing or double slash), no "." or ".."
// segments and no dot-files, which the file store reserves for its temporary files.
const KEY_PATTERN = /^[a-z0-9][a-z0-9/_.-]{0,254}$/;
const SEGMENT_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;

export function validateBlobKey(key: string): void {
  if (!isValidKey(key)) throw new AppError("blob_key_invalid", "blob key is not valid", { key: describeKey(key) });
}

/** A list prefix is "" or a key, or a key followed by "/". */
export function validateBlobPrefix(prefix: string): void {
  if (prefix === "") return;
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (!isValidKey(body)) {
    throw new AppError("blob_key_invalid", "blob key prefix is not valid", { prefix: describeKey(prefix) });
  }
}

export function validateByteRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new AppError("range_not_satisfiable", `invalid byte range ${String(start)}-${String(end)}`);
  }
}

function isValidKey(key: unknown): key is string {
  return (
    typeof key === "string" &&
    KEY_PATTERN.test(key) &&
    !key.includes("..") &&
    key.split("/").every((segment) => SEGMENT_PATTERN.test(segment))
  );
}

// Keys come from our own code, but an invalid one may be hostile input; keep the error printable.
function describeKey(key: unknown): string {
  if (typeof key !== "string") return `(${typeof key})`;
  return JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
}

/**
 * A blob read piped through a transform (decryption). Unlike `source.pipe(transform)`, a reader that
 * stops early (a client that hangs up) also closes the blob's file or connection, and a failed read
 * reaches whoever reads the result.
 */
export function readThrough(source: Readable, transform: Transform): Readable {
  // Not stream.pipeline: on every finish it aborts an AbortController, whose DOMException (with its stack
  // trace) costs as much as a small request's decryption.
  source.on("error", (error) => transform.destroy(error));
  transform.once("close", () => source.destroy());
  return source.pipe(transform);
}
