// A real S3-protocol server for tests: s3rver (on-disk buckets) on 127.0.0.1, port 0, with a
// temporary directory and one bucket, optionally over TLS with a throw-away CA.
//
// s3rver 3.7 on Node 24, as found: its ListObjectsV2 continuation tokens are DES-encrypted, which
// OpenSSL 3 refuses without the legacy provider, so the server runs in a child process started
// with --openssl-legacy-provider (this file is also that child's entry point). It also does not
// verify SigV4 signatures (only that the access key id exists), lists keys in file-system rather
// than byte order, gives multipart objects a plain MD5 ETag, has no AbortMultipartUpload, treats
// "Range: bytes=0-0" as "0-" and resets the connection on a ranged GET of an empty object.

import { spawn } from "node:child_process";
import { randomBytes, webcrypto } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import "reflect-metadata"; // @peculiar/x509 needs it loaded first
import * as x509 from "@peculiar/x509";

export type TestS3Server = {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps the buckets' files. */
  directory: string;
  /** With tls: the PEM of the CA that signed the server's certificate (for 127.0.0.1). */
  ca?: string;
  /** Every request the server has received so far, as "METHOD /path?query". */
  requests(): string[];
  close(): Promise<void>;
};

/** s3rver knows exactly this account. */
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const CHILD_CONFIG_ENV = "STRONGROOM_TEST_S3RVER_CONFIG";

type ChildConfig = { directory: string; bucket: string; key?: string; cert?: string };
type ChildMessage = { port: number } | { request: string } | { error: string };

export async function startS3Server(options: { tls?: boolean } = {}): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), "sr-test-s3-"));
  const bucket = `sr-test-${randomBytes(4).toString("hex")}`;
  const tls = options.tls === true ? await createServerCertificate() : undefined;
  const config: ChildConfig = { directory, bucket, ...(tls !== undefined && { key: tls.key, cert: tls.cert }) };

  const child = spawn(process.execPath, ["--openssl-legacy-provider", fileURLToPath(import.meta.url)], {
    env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(config) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const exited = once(child, "exit");
  const requests: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`s3rver exited (${String(code)}) before listening: ${stderr}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as ChildMessage;
      if ("port" in message) resolve(message.port);
      else if ("request" in message) requests.push(message.request);
      else reject(new Error(`s3rver failed to start: ${message.error}`));
    });
  }).catch(async (error: unknown) => {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  });

  return {
    endpoint: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    bucket,
    region: "us-east-1",
    ...CREDENTIALS,
    directory,
    ...(tls !== undefined && { ca: tls.ca }),
    requests: () => [...requests],
    async close() {
      // Closing stdin asks the child to stop; it also stops by itself if this process dies.
      child.stdin.end();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

// The child: run s3rver until stdin closes, reporting the port and each request on stdout.
async function runS3rverChild(config: ChildConfig): Promise<void> {
  type S3rverInstance = {
    run(): Promise<{ port: number }>;
    close(): Promise<void>;
    httpServer: import("node:http").Server;
  };
  // s3rver ships no type declarations; this is the part of its API used here.
  const S3rver = createRequire(import.meta.url)("s3rver") as new (options: object) => S3rverInstance;
  const send = (message: ChildMessage) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: config.directory,
    configureBuckets: [{ name: config.bucket }],
    ...(config.key !== undefined && { key: config.key, cert: config.cert }),
  });
  try {
    const { port } = await server.run();
    server.httpServer.prependListener("request", (request) => send({ request: `${request.method} ${request.url}` }));
    send({ port });
  } catch (error) {
    send({ error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  process.stdin.resume();
  process.stdin.on("end", () => {
    setTimeout(() => process.exit(0), 2000).unref();
    server.close().finally(() => process.exit(0));
  });
}

async function createServerCertificate(): Promise<{ ca: string; cert: string; key: string }> {
  const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const caKeys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: positiveSerial(),
      name: "CN=Strongroom test CA",
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    },
    crypto,
  );
  const serverKeys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const serverCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: positiveSerial(),
      subject: "CN=127.0.0.1",
      issuer: caCert.subject,
      notBefore,
      notAfter,
      publicKey: serverKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.SubjectAlternativeNameExtension([{ type: "ip", value: "127.0.0.1" }]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", serverKeys.privateKey)).toString("base64");
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join("\n")}\n-----END PRIVATE KEY-----\n`;
  return { ca: caCert.toString("pem"), cert: serverCert.toString("pem"), key };
}

// A serial number is a positive integer; a leading hex digit of 8 or more would make it negative.
function positiveSerial(): string {
  return randomBytes(16).toString("hex").replace(/^[89a-f]/, "7");
}

const childConfig = process.env[CHILD_CONFIG_ENV];
if (import.meta.main && childConfig !== undefined) {
  await runS3rverChild(JSON.parse(childConfig) as ChildConfig);
}
