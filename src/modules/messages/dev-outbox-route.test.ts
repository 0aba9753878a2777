// GET /v1/dev/outbox over real HTTPS on SQLite and PostgreSQL: the loopback caller asking for a
// loopback host reads the sealed messages newest first; a caller from another address, a foreign Host
// (DNS rebinding) or an address set by a trusted proxy is told there is no such route, as for any
// unknown path, even with a malformed query.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../http/app.ts";
import { createLogger } from "../../log/logger.ts";
import { ensureSelfSignedCertificate } from "../../vault/self-signed-certificate.ts";
import { createVault } from "../../vault/vault.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../../test/support/databases.ts";
import { registerDevOutboxRoute } from "./dev-outbox-route.ts";
import type { Message } from "./message.ts";
import { createOutboxSender } from "./outbox-sender.ts";

const code: Message = { channel: "email", to: "alice@a.example", subject: "Your Strongroom sign-in code", text: "Your sign-in code is 418203.", purpose: "device_code" };
const sms: Message = { channel: "sms", to: "+41791234567", subject: "", text: "Strongroom code 902117", purpose: "phone_verification" };

type Answer = { status: number; body: string };

// A machine address that is not loopback, to call from "another machine" over a real socket.
const outsideAddress = Object.values(networkInterfaces()).flat().find((entry) => entry && entry.family === "IPv4" && !entry.internal)?.address;

function get(host: string, port: number, path: string, ca: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host, port, path, ca, headers, method: "GET", timeout: 10_000,
      // The certificate names localhost; the test also connects by other addresses.
      checkServerIdentity: () => undefined,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end();
  });
}

for (const kind of databaseKinds) {
  describe(`GET /v1/dev/outbox (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let dir: string;
    let ca: Buffer;
    let app: FastifyInstance;
    let proxied: FastifyInstance;
    let port: number;
    let proxiedPort: number;

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-dev-outbox-route-"));
      const certificate = await ensureSelfSignedCertificate(dir);
      ca = await readFile(certificate.certFile);
      const vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      const outbox = createOutboxSender({ db: test.database.db, vault });
      await outbox.send(code);
      await outbox.send(sms);
      const options = { vault, logger: createLogger({ level: "silent" }), certificate, bodyLimitBytes: 64 * 1024, operatorCidrs: [], version: "test" };
      app = await buildApp({ ...options, trustedProxies: [] });
      registerDevOutboxRoute(app, { db: test.database.db, vault });
      await app.listen({ host: "0.0.0.0", port: 0 });
      port = (app.server.address() as { port: number }).port;
      // Behind a proxy on the same machine: the socket is local, the visitor is not.
      proxied = await buildApp({ ...options, trustedProxies: ["127.0.0.1/32"] });
      registerDevOutboxRoute(proxied, { db: test.database.db, vault });
      await proxied.listen({ host: "127.0.0.1", port: 0 });
      proxiedPort = (proxied.server.address() as { port: number }).port;
    });

    after(async () => {
      await app?.close();
      await proxied?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("shows a loopback caller the messages, newest first, and honours the limit", async () => {
      const answer = await get("127.0.0.1", port, "/v1/dev/outbox", ca, { host: `localhost:${port}` });
      assert.equal(answer.status, 200, answer.body);
      const { messages } = JSON.parse(answer.body) as { messages: Array<Message & { id: string; createdAt: string }> };
      assert.deepEqual(messages.map(({ id: _id, createdAt: _at, ...message }) => message), [sms, code]);
      assert.ok(messages.every((message) => typeof message.id === "string" && !Number.isNaN(Date.parse(message.createdAt))));

      const one = await get("127.0.0.1", port, "/v1/dev/outbox?limit=1", ca, { host: "127.0.0.1" });
      assert.equal(one.status, 200, one.body);
      assert.deepEqual((JSON.parse(one.body) as { messages: Message[] }).messages.map((message) => message.text), [sms.text]);
    });

    it("refuses a bad limit from a loopback caller with a clear 400", async () => {
      for (const limit of ["0", "-1", "abc", "10000"]) {
        const answer = await get("127.0.0.1", port, `/v1/dev/outbox?limit=${limit}`, ca, { host: "localhost" });
        assert.equal(answer.status, 400, `limit=${limit}: ${answer.body}`);
        assert.equal(JSON.parse(answer.body).error, "validation_failed");
      }
    });

    it("answers a foreign Host name (DNS rebinding) like an unknown route", async () => {
      const unknown = await get("127.0.0.1", port, "/v1/dev/no-such-route", ca, { host: "localhost" });
      for (const host of ["attacker.example", `attacker.example:${port}`, "localhost.attacker.example", "127.0.0.1.nip.io", "[::2]"]) {
        const answer = await get("127.0.0.1", port, "/v1/dev/outbox?limit=abc", ca, { host });
        assert.equal(answer.status, 404, `host ${host}: ${answer.body}`);
        assert.deepEqual(JSON.parse(answer.body), { ...JSON.parse(unknown.body), message: "no route for GET /v1/dev/outbox" });
        assert.ok(!answer.body.includes(code.text) && !answer.body.includes(sms.text));
      }
    });

    it("answers a caller from another address like an unknown route", { skip: outsideAddress ? false : "this machine has no non-loopback IPv4 address" }, async () => {
      const answer = await get(outsideAddress!, port, "/v1/dev/outbox", ca, { host: `localhost:${port}` });
      assert.equal(answer.status, 404, answer.body);
      assert.equal(JSON.parse(answer.body).error, "route_not_found");
      assert.ok(!answer.body.includes(code.text));
    });

    it("answers a visitor forwarded by a trusted proxy on this machine like an unknown route", async () => {
      const outside = await get("127.0.0.1", proxiedPort, "/v1/dev/outbox", ca, { host: "localhost", "x-forwarded-for": "203.0.113.9" });
      assert.equal(outside.status, 404, outside.body);
      assert.equal(JSON.parse(outside.body).error, "route_not_found");
      const local = await get("127.0.0.1", proxiedPort, "/v1/dev/outbox", ca, { host: "localhost" });
      assert.equal(local.status, 200, "without a forwarded address the proxy's own machine is the caller");
    });
  });
}
