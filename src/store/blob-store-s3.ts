// Blob store on S3 or an S3-compatible service (the scale-out option), streaming both ways:
// uploads of unknown length go through lib-storage's multipart Upload, reads through Range.

import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { AppError, isAppError } from "../errors/app-error.ts";
import { validateBlobKey, validateBlobPrefix, validateByteRange, type BlobStore, type ByteRange } from "./blob-store.ts";

export type S3BlobStoreConfig = {
  /** For S3-compatible services (MinIO, Ceph, …); omit for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bucket in the path rather than the host name; most S3-compatible services need it. */
  forcePathStyle?: boolean;
  /** Keys live under this prefix in the bucket (a "/" is added), so a bucket can be shared. */
  prefix?: string;
  /** TLS to the endpoint: a private CA (PEM contents) and whether to verify the certificate. */
  tls?: { ca?: string; rejectUnauthorized: boolean };
  /** Keys per listing request; S3's maximum (1000) unless a test wants to see pagination. */
  listPageSize?: number;
};

export type S3BlobStore = BlobStore & {
  /** Checks at start-up that the bucket is reachable with these credentials; config_invalid says why not. */
  verify(): Promise<void>;
  /** Closes the client's pooled connections. */
  close(): void;
};

// S3's minimum part size. With two parts in flight a put holds at most ~3 parts in memory.
const PART_SIZE = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

type Sdk = typeof import("@aws-sdk/client-s3") & Pick<typeof import("@aws-sdk/lib-storage"), "Upload">;

// The SDK is loaded on first use: it takes ~85 ms to load, which a server on local disks and a backup
// command with only directory destinations need not pay.
let sdkLoading: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdkLoading ??= Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]).then(([s3, storage]) => ({ ...s3, Upload: storage.Upload }));
  return sdkLoading;
}

export function createS3BlobStore(config: S3BlobStoreConfig): S3BlobStore {
  const basePrefix = normalizePrefix(config.prefix);
  // Checked now, not at first use: a wrong setting is a start-up error.
  const httpsAgent = config.tls !== undefined ? httpsAgentFor(config.endpoint, config.tls) : undefined;
  let connecting: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  const connected = () => {
    connecting ??= loadSdk().then((sdk) => ({ sdk, client: newClient(sdk) }));
    return connecting;
  };
  const newClient = (sdk: Sdk) => new sdk.S3Client({
    region: config.region,
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    forcePathStyle: config.forcePathStyle ?? false,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // The SDK's default CRC checksums (with aws-chunked trailers) are not understood by many
    // S3-compatible services; the blobs are AEAD ciphertext, so integrity is checked on open anyway.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(httpsAgent !== undefined && { requestHandler: { httpsAgent } }),
  });
  const bucket = config.bucket;


  const objectKey = (key: string) => {
    validateBlobKey(key);
    return basePrefix + key;
  };

  return {
    async put(key, body) {
      const Key = objectKey(key);
      let size = 0;
      let sourceFailure: { error: unknown } | undefined;
      async function* countedBody(): AsyncGenerator<Uint8Array> {
        try {
          for await (const chunk of body as AsyncIterable<unknown>) {
            if (!(chunk instanceof Uint8Array)) {
              throw new TypeError(`a blob body must yield bytes, not ${typeof chunk} (is an encoding set on the stream?)`);
            }
            size += chunk.byteLength;
            yield chunk;
          }
        } catch (error) {
          sourceFailure = { error };
          throw error;
        }
      }
      const { sdk, client } = await connected();
      const stream = Readable.from(countedBody());
      const upload = new sdk.Upload({
        client,
        params: { Bucket: bucket, Key, Body: stream },
        partSize: PART_SIZE,
        queueSize: PARTS_IN_FLIGHT,
        // A failed multipart upload is aborted so its parts are not stored (and billed) forever.
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        // The caller's stream failing is the caller's error; report it as such, not as storage.
        if (sourceFailure !== undefined) throw sourceFailure.error;
        throw s3Failure("put", key, error);
      } finally {
        stream.destroy();
      }
      return { size };
    },

    async get(key, range) {
      const Key = objectKey(key);
      if (range !== undefined) validateByteRange(range);
      let response;
      try {
        const { sdk, client } = await connected();
        response = await client.send(
          new sdk.GetObjectCommand({
            Bucket: bucket,
            Key,
            ...(range !== undefined && { Range: `bytes=${range.start}-${range.end}` }),
          }),
        );
      } catch (error) {
        if (isNotFound(error)) throw new AppError("blob_not_found", "blob not found", { key });
        if (statusOf(error) === 416) {
          throw new AppError("range_not_satisfiable", `range starts at or past the end of the blob`, { key });
        }
        throw s3Failure("get", key, error);
      }
      const body = response.Body;
      if (!(body instanceof Readable)) throw s3Failure("get", key, new Error("response has no body stream"));
      return range === undefined ? body : checkServedRange(body, response.ContentRange, range, key);
    },

    async stat(key) {
      const Key = objectKey(key);
      try {
        const { sdk, client } = await connected();
        const response = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key }));
        return { size: response.ContentLength ?? 0 };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw s3Failure("stat", key, error);
      }
    },

    async delete(key) {
      const Key = objectKey(key);
      try {
        const { sdk, client } = await connected();
        await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (error) {
        if (isNotFound(error)) return;
        throw s3Failure("delete", key, error);
      }
    },

    async *list(prefix) {
      validateBlobPrefix(prefix);
      yield* listKeys(prefix);
    },

    async verify() {
      try {
        const { sdk, client } = await connected();
        await client.send(new sdk.HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        const status = statusOf(error);
        const why =
          status === 404
            ? `bucket ${bucket} does not exist`
            : status === 403
              ? `access to bucket ${bucket} is denied (check the credentials and the bucket policy)`
              : `bucket ${bucket} is unreachable: ${error instanceof Error ? error.message : String(error)}`;
        throw new AppError("config_invalid", `S3 blob store: ${why}`, { status });
      }
    },

    close() {
      void connecting?.then(({ client }) => client.destroy(), () => undefined);
    },
  };

  async function* listKeys(prefix: string): AsyncGenerator<string> {
    let continuationToken: string | undefined;
    do {
      let page;
      try {
        const { sdk, client } = await connected();
        page = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: basePrefix + prefix,
            ...(continuationToken !== undefined && { ContinuationToken: continuationToken }),
            ...(config.listPageSize !== undefined && { MaxKeys: config.listPageSize }),
          }),
        );
      } catch (error) {
        throw s3Failure("list", prefix, error);
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(basePrefix.length);
        // Objects someone else put under our prefix are not blobs of ours.
        if (key !== undefined && isValidKey(key)) yield key;
      }
      continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }
}

// A server that ignores Range, or serves another one, would hand back bytes other than those
// asked for; fail rather than pass them on as the requested slice.
function checkServedRange(body: Readable, contentRange: string | undefined, range: ByteRange, key: string): Readable {
  const served = /^bytes (\d+)-(\d+)\/(?:\d+|\*)$/.exec(contentRange ?? "");
  if (served === null || Number(served[1]) !== range.start) {
    body.destroy();
    throw s3Failure("get", key, new Error(`asked for bytes ${range.start}-${range.end}, the server sent ${contentRange ?? "no Content-Range"}`));
  }
  const wanted = range.end - range.start + 1;
  if (Number(served[2]) - range.start + 1 <= wanted) return body;
  // s3rver (used in tests) treats an end of 0 as "to the end"; pass on only what was asked for.
  return Readable.from(takeBytes(body, wanted), { objectMode: false });
}

async function* takeBytes(source: Readable, count: number): AsyncGenerator<Uint8Array> {
  let remaining = count;
  // Leaving the loop early destroys the source stream, which closes the connection's response.
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    if (chunk.byteLength >= remaining) {
      yield chunk.subarray(0, remaining);
      return;
    }
    remaining -= chunk.byteLength;
    yield chunk;
  }
}

function httpsAgentFor(endpoint: string | undefined, tls: NonNullable<S3BlobStoreConfig["tls"]>): HttpsAgent {
  // Settings that would silently not apply are a configuration error.
  if (endpoint !== undefined && !endpoint.startsWith("https://")) {
    throw new AppError("config_invalid", `S3 TLS settings are given but the endpoint ${endpoint} is not https://`);
  }
  return new HttpsAgent({
    keepAlive: true,
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca !== undefined && { ca: tls.ca }),
  });
}

function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === "") return "";
  const withSlash = prefix.endsWith("/") ? prefix : `${prefix}/`;
  try {
    validateBlobPrefix(withSlash);
  } catch {
    throw new AppError("config_invalid", `S3 key prefix ${JSON.stringify(prefix)} is not valid (lower-case letters, digits, _ . - /)`);
  }
  return withSlash;
}

function isValidKey(key: string): boolean {
  try {
    validateBlobKey(key);
    return true;
  } catch {
    return false;
  }
}

// A missing bucket is also a 404, but it is a misconfiguration, not a missing blob.
function isNotFound(error: unknown): boolean {
  const name = error instanceof Error ? error.name : undefined;
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || statusOf(error) === 404;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("$metadata" in error)) return undefined;
  const metadata = error.$metadata;
  return typeof metadata === "object" && metadata !== null && "httpStatusCode" in metadata
    ? (metadata.httpStatusCode as number | undefined)
    : undefined;
}

function s3Failure(operation: string, key: string, error: unknown): AppError {
  if (isAppError(error)) return error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new AppError("storage_failed", `S3 blob store could not ${operation} ${key}: ${reason}`, {
    key,
    reason,
    status: statusOf(error),
  });
}
