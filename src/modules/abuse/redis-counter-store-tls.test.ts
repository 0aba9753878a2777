// P23 for Redis: with a rediss:// URL and the operator's CA the counters travel over TLS to a real
// redis-server started here with a TLS port only; without the CA the connection is refused.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureSelfSignedCertificate } from "../../vault/self-signed-certificate.ts";
import { createRedisCounterStore } from "./redis-counter-store.ts";
import { redisSkipReason, testKeyPrefix } from "./redis-for-tests.ts";

const redisServer = "redis-server";
// This test starts its own TLS-only server, so it needs the redis-server program on this machine.
const noRedisServer = spawnSync(redisServer, ["--version"]).status === 0 ? false : "redis-server is not installed here";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => { socket.destroy(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not open port ${port}`);
}

describe("redis counter store over TLS (rediss://)", { skip: (await redisSkipReason()) || noRedisServer }, () => {
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let ca: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sr-redis-tls-"));
    const certificate = await ensureSelfSignedCertificate(dir);
    ca = await readFile(certificate.certFile);
    port = await freePort();
    child = spawn(redisServer, [
      "--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1",
      "--tls-cert-file", certificate.certFile, "--tls-key-file", certificate.keyFile, "--tls-ca-cert-file", certificate.certFile,
      "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", dir,
    ], { stdio: "ignore" });
    await waitForPort(port);
  });

  after(async () => {
    child?.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  });

  it("counts over TLS with the CA", async () => {
    const store = createRedisCounterStore({ url: `rediss://localhost:${port}`, keyPrefix: testKeyPrefix(), ca });
    try {
      assert.equal((await store.hit("tls", 10_000)).count, 1);
      assert.equal((await store.hit("tls", 10_000)).count, 2);
    } finally {
      await store.close();
    }
  });

  it("refuses a server whose certificate it cannot verify", async () => {
    const store = createRedisCounterStore({ url: `rediss://localhost:${port}`, keyPrefix: testKeyPrefix(), commandTimeoutMs: 1000 });
    try {
      await assert.rejects(store.hit("tls", 10_000));
    } finally {
      await store.close();
    }
  });

  it("a plaintext client gets nothing from the TLS port", async () => {
    const store = createRedisCounterStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: testKeyPrefix(), commandTimeoutMs: 1000 });
    try {
      await assert.rejects(store.hit("tls", 10_000));
    } finally {
      await store.close();
    }
  });
});
