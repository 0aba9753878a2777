import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { openTestDatabase, type TestDatabase } from "../../test/support/databases.ts";
import { httpsRequest, postJson } from "../../test/support/https-request.ts";
import { createLogger } from "../log/logger.ts";
import { ensureSelfSignedCertificate } from "../vault/self-signed-certificate.ts";
import { createVault, type Vault } from "../vault/vault.ts";
import { createVaultRepository } from "../vault/vault-repository.ts";
import { buildApp } from "./app.ts";
import { redirectTarget } from "./redirect-server.ts";

describe("HTTPS application", () => {
  let test: TestDatabase;
  let dir: string;
  let app: FastifyInstance;
  let vault: Vault;
  let shares: string[];
  let ca: Buffer;
  let base: string;
  const logLines: string[] = [];

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-app-"));
    const certificate = await ensureSelfSignedCertificate(dir);
    ca = await readFile(certificate.certFile);
    vault = createVault(createVaultRepository(test.database.db));
    ({ shares } = await vault.initialize(3, 2));
    const destination = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
    app = await buildApp({
      vault,
      logger: createLogger({ level: "debug", destination }),
      certificate,
      bodyLimitBytes: 4096,
      trustedProxies: [],
      operatorCidrs: ["10.0.0.0/8"],
      version: "test",
    });
    // A stand-in for the data routes later issues add: behind the same barrier.
    app.get("/v1/documents", async () => ({ documents: [] }));
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `https://localhost:${(app.server.address() as { port: number }).port}`;
  });

  after(async () => {
    await app.close();
    await test.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("a sealed node answers health 503 and refuses every data route with 503 sealed", async () => {
    const health = await httpsRequest(`${base}/v1/sys/health`, { ca });
    assert.equal(health.status, 503);
    assert.deepEqual([health.json().initialized, health.json().sealed], [true, true]);
    for (const path of ["/v1/documents", "/v1/anything", "/"]) {
      const response = await httpsRequest(`${base}${path}`, { ca });
      assert.equal(response.status, 503, path);
      assert.equal(response.json().error, "sealed");
    }
  });

  it("unseal shows progress, refuses bad shares with 400, resets, and then opens", async () => {
    const first = await postJson(`${base}/v1/sys/unseal`, ca, { share: shares[0] });
    assert.deepEqual(first.json(), { initialized: true, sealed: true, threshold: 2, shares: 3, progress: 1 });
    const repeated = await postJson(`${base}/v1/sys/unseal`, ca, { share: shares[0] });
    assert.deepEqual([repeated.status, repeated.json().error], [400, "share_repeated"]);
    const garbage = await postJson(`${base}/v1/sys/unseal`, ca, { share: "srs1-00000000-zz-00000000" });
    assert.deepEqual([garbage.status, garbage.json().error], [400, "share_malformed"]);
    const reset = await postJson(`${base}/v1/sys/unseal`, ca, { reset: true });
    assert.equal(reset.json().progress, 0);
    const extra = await postJson(`${base}/v1/sys/unseal`, ca, { share: shares[1], other: 1 });
    assert.deepEqual([extra.status, extra.json().error], [400, "validation_failed"]);
    await postJson(`${base}/v1/sys/unseal`, ca, { share: shares[1] });
    const opened = await postJson(`${base}/v1/sys/unseal`, ca, { share: shares[2] });
    assert.deepEqual(opened.json(), { initialized: true, sealed: false, threshold: 2, shares: 3, progress: 0 });
    // Unsealing also makes (or loads) the PAdES signing identity, so a problem shows now, not at a seal.
    assert.equal((await test.database.db.selectFrom("document_signing_keys").select("id").execute()).length, 1);
    assert.equal((await httpsRequest(`${base}/v1/sys/health`, { ca })).status, 200);
    assert.equal((await httpsRequest(`${base}/v1/documents`, { ca })).status, 200);
  });

  it("sends HSTS with preload, a strict CSP and the other OWASP headers on every answer", async () => {
    for (const path of ["/v1/sys/health", "/v1/nowhere"]) {
      const { headers } = await httpsRequest(`${base}${path}`, { ca });
      assert.equal(headers["strict-transport-security"], "max-age=63072000; includeSubDomains; preload");
      assert.match(String(headers["content-security-policy"]), /frame-ancestors 'none'/);
      assert.match(String(headers["content-security-policy"]), /script-src 'self'/);
      assert.equal(headers["x-content-type-options"], "nosniff");
      assert.equal(headers["referrer-policy"], "no-referrer");
      assert.equal(headers["cache-control"], "no-store");
    }
  });

  it("answers bad input with clear 4xx JSON and never a stack trace", async () => {
    const cases = [
      { body: "{not json", type: "application/json", status: 400, error: "invalid_json" },
      { body: JSON.stringify({ share: "x".repeat(5000) }), type: "application/json", status: 413, error: "payload_too_large" },
      { body: "share=x", type: "application/x-www-form-urlencoded", status: 415, error: "unsupported_media_type" },
      { body: JSON.stringify({ share: 42 }), type: "application/json", status: 400, error: "validation_failed" },
    ];
    for (const { body, type, status, error } of cases) {
      const response = await httpsRequest(`${base}/v1/sys/unseal`, { ca, method: "POST", headers: { "content-type": type }, body });
      assert.equal(response.status, status, body.slice(0, 30));
      assert.equal(response.json().error, error);
      assert.doesNotMatch(response.text, /at .*\.ts:\d+|stack/i);
    }
    const unknown = await httpsRequest(`${base}/v1/no/such/route?token=abc`, { ca });
    assert.deepEqual([unknown.status, unknown.json().error], [404, "route_not_found"]);
    assert.doesNotMatch(unknown.text, /token=abc/);
  });

  it("the operator API answers only from operator CIDRs, and a spoofed X-Forwarded-For changes nothing", async () => {
    for (const path of ["/v1/sys/seal", "/v1/sys/rotate"]) {
      const response = await httpsRequest(`${base}${path}`, { ca, method: "POST", headers: { "x-forwarded-for": "10.1.2.3" } });
      assert.deepEqual([response.status, response.json().error], [403, "ip_not_allowed"], path);
    }
    assert.equal((await httpsRequest(`${base}/v1/sys/health`, { ca })).json().sealed, false);
  });

  it("no share reaches the log, even when sent in a malformed request", async () => {
    await postJson(`${base}/v1/sys/unseal`, ca, { share: shares[0], reset: "no" });
    await httpsRequest(`${base}/v1/sys/unseal`, { ca, method: "POST", headers: { "content-type": "application/json" }, body: `{"share":"${shares[1]}"` });
    const log = logLines.join("");
    assert.ok(log.length > 0);
    for (const share of shares) {
      assert.ok(!log.includes(share), "a share appeared in the log");
      assert.ok(!log.includes(share.split("-")[2]!), "share bytes appeared in the log");
    }
  });

  it("redirect targets stay on the requested host and never become protocol-relative", () => {
    assert.equal(redirectTarget("example.com:8080", "/a?b=1", 8443, undefined), "https://example.com:8443/a?b=1");
    assert.equal(redirectTarget("example.com", "//evil.example/x", 443, undefined), "https://example.com/");
    assert.equal(redirectTarget("evil.com/x", "/", 8443, undefined), undefined);
    assert.equal(redirectTarget(undefined, "/", 8443, undefined), undefined);
    assert.equal(redirectTarget("anything", "/p", 8443, "https://docs.example.org"), "https://docs.example.org/p");
  });
});

describe("client address behind a trusted proxy", () => {
  let test: TestDatabase;
  let dir: string;
  let app: FastifyInstance;

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-proxy-"));
    const vault = createVault(createVaultRepository(test.database.db));
    await vault.initialize(1, 1);
    app = await buildApp({
      vault,
      logger: createLogger({ level: "silent" }),
      certificate: await ensureSelfSignedCertificate(dir),
      bodyLimitBytes: 4096,
      trustedProxies: ["127.0.0.1", "::1"],
      operatorCidrs: ["10.0.0.0/8"],
      version: "test",
    });
  });

  after(async () => {
    await app.close();
    await test.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("believes X-Forwarded-For only from the configured proxy", async () => {
    const viaProxy = await app.inject({ method: "POST", url: "/v1/sys/seal", remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": "10.9.8.7" } });
    assert.equal(viaProxy.statusCode, 200);
    const outsider = await app.inject({ method: "POST", url: "/v1/sys/seal", remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": "192.168.1.1" } });
    assert.equal(outsider.statusCode, 403);
    const spoofed = await app.inject({ method: "POST", url: "/v1/sys/seal", remoteAddress: "203.0.113.5", headers: { "x-forwarded-for": "10.9.8.7" } });
    assert.equal(spoofed.statusCode, 403);
  });
});

