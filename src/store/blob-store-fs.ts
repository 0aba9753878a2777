// Blob store on the local file system (the embedded default): one file per key under rootDir,
// written atomically (temp file, fsync, rename, fsync directory) so a crash never leaves a torn blob.

import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdir, open, rename, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { AppError, isAppError } from "../errors/app-error.ts";
import { validateBlobKey, validateBlobPrefix, validateByteRange, type BlobStore, type ByteRange } from "./blob-store.ts";

export type FileBlobStore = BlobStore & {
  /**
   * Removes temporary files left by puts that a crash interrupted; returns how many. Call it at
   * start-up, before serving: it would also remove the temporary file of a put in progress.
   */
  cleanupTempFiles(): Promise<number>;
  readInto: NonNullable<BlobStore["readInto"]>;
};

// Keys never have a segment starting with ".", so temp files cannot collide with or be listed as blobs.
const TEMP_PREFIX = ".tmp-";
const TEMP_NAME = /^\.tmp-[0-9a-f]{32}$/;
const ENTRY_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

export function createFileBlobStore(rootDir: string): FileBlobStore {
  const root = resolve(rootDir);

  function pathOf(key: string): string {
    validateBlobKey(key);
    const path = join(root, ...key.split("/"));
    // Defence in depth: validation already rules out "..", absolute paths and empty segments.
    if (!path.startsWith(root + sep)) throw new AppError("blob_key_invalid", "blob key escapes the store");
    return path;
  }

  // The blob's file, open, and its size; a key that is a prefix of other keys is a directory here, not a blob.
  async function openBlobFile(key: string): Promise<{ handle: FileHandle; info: { size: number } }> {
    const path = pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (isMissing(error)) throw notFound(key);
      throw storageFailure("get", key, error);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw notFound(key);
      return { handle, info };
    } catch (error) {
      await handle.close().catch(() => {});
      throw isAppError(error) ? error : storageFailure("get", key, error);
    }
  }

  return {
    async put(key, body) {
      const path = pathOf(key);
      const dir = dirname(path);
      const firstCreated = await fsStep("put", key, () => mkdir(dir, { recursive: true, mode: 0o700 }));
      const tempPath = join(dir, TEMP_PREFIX + randomBytes(16).toString("hex"));
      const handle = await fsStep("put", key, () => open(tempPath, "wx", 0o600));
      let handleOpen = true;
      let size = 0;
      try {
        for await (const chunk of body as AsyncIterable<unknown>) {
          const bytes = asBytes(chunk);
          await fsStep("put", key, () => writeFully(handle, bytes));
          size += bytes.byteLength;
        }
        await fsStep("put", key, () => handle.sync());
        handleOpen = false;
        await fsStep("put", key, () => handle.close());
        await fsStep("put", key, () => rename(tempPath, path));
      } catch (error) {
        // The source's own error (or ours, already an AppError) goes to the caller unchanged.
        if (handleOpen) await handle.close().catch(() => {});
        await rm(tempPath, { force: true }).catch(() => {});
        throw error;
      }
      await fsStep("put", key, () => syncDirectories(root, dir, firstCreated));
      return { size };
    },

    async get(key, range) {
      if (range !== undefined) validateByteRange(range);
      const { handle, info } = await openBlobFile(key);
      try {
        // Reading from the open handle keeps serving this version even if the key is replaced meanwhile.
        // Reads of up to 1 MiB (64 KiB reads only add round trips on large blobs), but never larger than
        // what is left: each read allocates its whole buffer, and a small blob must not cost 1 MiB.
        const bounds = streamBounds(range, info.size);
        const length = bounds.end - bounds.start + 1;
        return handle.createReadStream({ ...(length > 0 ? bounds : {}), highWaterMark: Math.min(1024 * 1024, Math.max(length, 1)) });
      } catch (error) {
        await handle.close().catch(() => {});
        throw isAppError(error) ? error : storageFailure("get", key, error);
      }
    },

    async readInto(key, buffer) {
      const { handle, info } = await openBlobFile(key);
      try {
        if (info.size > buffer.length) return undefined;
        let length = 0;
        // Up to one byte more than the size said: a blob that grew since (it never should) is not cut short silently.
        while (length < Math.min(info.size + 1, buffer.length)) {
          const { bytesRead } = await handle.read(buffer, length, Math.min(info.size + 1, buffer.length) - length, length);
          if (bytesRead === 0) break;
          length += bytesRead;
        }
        if (length !== info.size) throw storageFailure("get", key, new Error(`read ${length} bytes of a ${info.size}-byte blob`));
        return buffer.subarray(0, length);
      } catch (error) {
        throw isAppError(error) ? error : storageFailure("get", key, error);
      } finally {
        await handle.close().catch(() => {});
      }
    },

    async stat(key) {
      const path = pathOf(key);
      try {
        const info = await stat(path);
        return info.isFile() ? { size: info.size } : undefined;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw storageFailure("stat", key, error);
      }
    },

    async delete(key) {
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (error) {
        if (isMissing(error) || errorCode(error) === "EISDIR") return;
        throw storageFailure("delete", key, error);
      }
      await fsStep("delete", key, () => syncDirectories(root, dirname(path), undefined));
    },

    async *list(prefix) {
      validateBlobPrefix(prefix);
      yield* listKeys(root, prefix);
    },

    async cleanupTempFiles() {
      return removeTempFiles(root);
    },
  };
}

// An explicit end also spares the stream its last read (the one that finds the end of the file).
function streamBounds(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  if (range.start >= size) {
    throw new AppError("range_not_satisfiable", `range starts at ${range.start} but the blob has ${size} bytes`);
  }
  return { start: range.start, end: Math.min(range.end, size - 1) };
}

// Sibling order puts a directory "a" (compared as "a/") where its keys sort, so a depth-first walk
// yields keys in ascending byte order, like S3's listing. Directories are read synchronously, in slices
// of at most ~2 ms between which the event loop runs: a store of 5,000 documents is 5,000 directories,
// and one promise round trip through the thread pool per directory costs three times the reading
// itself. (This store is for a local disk, where such a read does not stall; scale-out uses S3.)
const sliceMs = 2;

async function* listKeys(root: string, prefix: string): AsyncGenerator<string> {
  let sliceStart = performance.now();
  const walk = function* (dir: string, keyPrefix: string): Generator<string | typeof pause> {
    if (performance.now() - sliceStart > sliceMs) yield pause;
    for (const entry of readEntries(dir)) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory) {
        const childPrefix = `${key}/`;
        if (childPrefix.startsWith(prefix) || prefix.startsWith(childPrefix)) yield* walk(join(dir, entry.name), childPrefix);
      } else if (key.startsWith(prefix)) {
        yield key;
      }
    }
  };
  for (const item of walk(root, "")) {
    if (item === pause) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    } else {
      yield item;
    }
  }
}

const pause = Symbol("pause");

type Entry = { name: string; isDirectory: boolean };

function readEntries(dir: string): Entry[] {
  let dirents;
  try {
    dirents = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return [];
    throw storageFailure("list", dir, error);
  }
  // Symlinks and anything else that is neither a plain file nor a directory is not ours.
  const entries = dirents
    .filter((dirent) => ENTRY_NAME.test(dirent.name) && (dirent.isFile() || dirent.isDirectory()))
    .map((dirent) => ({ name: dirent.name, isDirectory: dirent.isDirectory() }));
  const sortKey = (entry: Entry) => (entry.isDirectory ? `${entry.name}/` : entry.name);
  return entries.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

// Read synchronously like the listing (see listKeys), yielding to the event loop between slices.
async function removeTempFiles(root: string): Promise<number> {
  let removed = 0;
  let sliceStart = performance.now();
  const pending = [root];
  while (pending.length > 0) {
    if (performance.now() - sliceStart > sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    const dir = pending.pop()!;
    let dirents;
    try {
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) continue;
      throw storageFailure("clean up", dir, error);
    }
    for (const dirent of dirents) {
      const path = join(dir, dirent.name);
      if (dirent.isDirectory()) {
        pending.push(path);
      } else if (dirent.isFile() && TEMP_NAME.test(dirent.name)) {
        await rm(path, { force: true });
        removed += 1;
      }
    }
  }
  return removed;
}

// A rename or unlink is durable only once its directory is; directories that mkdir just created
// must reach their own parents too.
async function syncDirectories(root: string, dir: string, firstCreated: string | undefined): Promise<void> {
  if (process.platform === "win32") return; // Windows cannot open a directory to fsync it.
  const dirs = [dir];
  if (firstCreated !== undefined) {
    const stopAt = dirname(firstCreated);
    for (let current = dir; current !== stopAt && current.startsWith(root); ) {
      current = dirname(current);
      dirs.push(current);
    }
  }
  for (const path of dirs) {
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(`a blob body must yield bytes, not ${typeof chunk} (is an encoding set on the stream?)`);
}

async function fsStep<T>(operation: string, key: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw isAppError(error) ? error : storageFailure(operation, key, error);
  }
}

function storageFailure(operation: string, key: string, error: unknown): AppError {
  const reason = errorCode(error) ?? (error instanceof Error ? error.message : String(error));
  return new AppError("storage_failed", `file blob store could not ${operation} ${key}: ${reason}`, { key, reason });
}

function notFound(key: string): AppError {
  return new AppError("blob_not_found", "blob not found", { key });
}

// ENOTDIR: a path component is a file, e.g. key "a/b" when blob "a" exists.
function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
