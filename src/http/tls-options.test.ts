import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "node:tls";
import { createLogger } from "../log/logger.ts";
import { createSelfSignedCertificate } from "../vault/self-signed-certificate.ts";
import { reloadCertificateOnChange, tlsServerOptions } from "./tls-options.ts";

function fingerprintOf(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("operator certificate hot reload", () => {
  let dir: string;
  let server: Server;
  let stop: () => void;
  let port: number;
  const files = () => ({ certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") });

  async function writePair(): Promise<void> {
    const pair = await createSelfSignedCertificate(["localhost"]);
    await writeFile(files().keyFile, pair.privateKeyPem);
    await writeFile(files().certFile, pair.certificatePem);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sr-tls-reload-"));
    await writePair();
    server = createServer(tlsServerOptions(files()), (_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    stop = reloadCertificateOnChange(server, files(), createLogger({ level: "silent" }));
  });

  after(async () => {
    stop();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("serves a renewed certificate without a restart, and keeps the old one when the new pair is broken", async () => {
    const first = await fingerprintOf(port);
    await writePair();
    await until(async () => (await fingerprintOf(port)) !== first, "the new certificate");
    const second = await fingerprintOf(port);
    await writeFile(files().certFile, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(await fingerprintOf(port), second);
  });
});
