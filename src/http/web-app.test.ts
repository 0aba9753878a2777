import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import type { FastifyInstance } from "fastify";
import { openTestDatabase, type TestDatabase } from "../../test/support/databases.ts";
import { httpsRequest } from "../../test/support/https-request.ts";
import { createLogger } from "../log/logger.ts";
import { ensureSelfSignedCertificate } from "../vault/self-signed-certificate.ts";
import { createVault, type Vault } from "../vault/vault.ts";
import { createVaultRepository } from "../vault/vault-repository.ts";
import { buildApp } from "./app.ts";
import { registerWebApp } from "./web-app.ts";

const secretMarker = "OUTSIDE-THE-WEB-APP-7f3a";
const script = `console.info(${JSON.stringify("x".repeat(4000))});\n`;

// Sends the path exactly as written (no URL normalisation), to try traversal the way an attacker would.
function rawGet(port: number, ca: Buffer, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, ca, servername: "localhost", method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("web app serving", () => {
  let test: TestDatabase;
  let dir: string;
  let distDir: string;
  let vault: Vault;
  let ca: Buffer;
  let certificate: Awaited<ReturnType<typeof ensureSelfSignedCertificate>>;
  const apps: FastifyInstance[] = [];

  async function startApp(webDir: string): Promise<{ base: string; port: number }> {
    const app = await buildApp({
      vault,
      logger: createLogger({ level: "silent" }),
      certificate,
      bodyLimitBytes: 4096,
      trustedProxies: [],
      operatorCidrs: ["127.0.0.1/32"],
      version: "test",
    });
    await registerWebApp(app, { distDir: webDir });
    await app.listen({ host: "127.0.0.1", port: 0 });
    apps.push(app);
    const port = (app.server.address() as { port: number }).port;
    return { base: `https://localhost:${port}`, port };
  }

  let base: string;
  let port: number;

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-web-app-"));
    certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
    ca = await readFile(certificate.certFile);
    vault = createVault(createVaultRepository(test.database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);

    distDir = join(dir, "dist");
    await mkdir(join(distDir, "assets"), { recursive: true });
    await writeFile(join(distDir, "index.html"), "<!doctype html><title>app</title><script type=module src=/assets/app-Ab12Cd34.js></script>");
    await writeFile(join(distDir, "assets", "app-Ab12Cd34.js"), script);
    await writeFile(join(distDir, "assets", "app-Ef56Gh78.css"), "body{margin:0}");
    await writeFile(join(distDir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    // Things outside the directory, and links that point at them.
    await writeFile(join(dir, "secret.txt"), secretMarker);
    await mkdir(join(dir, "private"));
    await writeFile(join(dir, "private", "secret.txt"), secretMarker);
    await symlink(join(dir, "secret.txt"), join(distDir, "linked.txt"));
    await symlink(join(dir, "private"), join(distDir, "linked-dir"));
    ({ base, port } = await startApp(distDir));
  });

  after(async () => {
    for (const app of apps) await app.close();
    await test.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves index.html for app pages, never cached, under the strict CSP", async () => {
    for (const path of ["/", "/login", "/company", "/reset-password", "/some/deep/page"]) {
      const response = await httpsRequest(`${base}${path}`, { ca });
      assert.equal(response.status, 200, path);
      assert.equal(response.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(response.headers["cache-control"], "no-store");
      assert.match(response.text, /<title>app<\/title>/);
      assert.match(String(response.headers["content-security-policy"]), /script-src 'self'; style-src 'self';.*frame-ancestors 'none'/);
      assert.equal(response.headers["x-content-type-options"], "nosniff");
    }
    const direct = await httpsRequest(`${base}/index.html`, { ca });
    assert.deepEqual([direct.status, direct.headers["cache-control"]], [200, "no-store"]);
  });

  it("serves hashed assets with their type and a year's immutable cache, gzipped when asked", async () => {
    const plain = await httpsRequest(`${base}/assets/app-Ab12Cd34.js`, { ca });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(plain.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.text, script);
    const zipped = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      request(`${base}/assets/app-Ab12Cd34.js`, { ca, headers: { "accept-encoding": "br, gzip;q=0.8" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
      }).on("error", reject).end();
    });
    assert.equal(zipped.encoding, "gzip");
    assert.equal(gunzipSync(zipped.body).toString("utf8"), script);
    const refused = await httpsRequest(`${base}/assets/app-Ab12Cd34.js`, { ca, headers: { "accept-encoding": "gzip;q=0" } });
    assert.equal(refused.headers["content-encoding"], undefined);

    const css = await httpsRequest(`${base}/assets/app-Ef56Gh78.css`, { ca });
    assert.deepEqual([css.headers["content-type"], css.text], ["text/css; charset=utf-8", "body{margin:0}"]);
    const icon = await httpsRequest(`${base}/favicon.svg`, { ca });
    assert.deepEqual([icon.headers["content-type"], icon.headers["cache-control"]], ["image/svg+xml", "no-cache"]);
  });

  it("answers a missing asset with 404, not with the app page", async () => {
    for (const path of ["/assets/app-Old00000.js", "/assets/nothing", "/missing.png", "/robots.txt"]) {
      const response = await httpsRequest(`${base}${path}`, { ca });
      assert.deepEqual([response.status, response.json().error], [404, "route_not_found"], path);
    }
  });

  it("leaves the API's answers alone: unknown /v1 paths and other methods stay JSON 404", async () => {
    for (const path of ["/v1/nothing-here", "/v1/", "/v1"]) {
      const response = await httpsRequest(`${base}${path}`, { ca });
      assert.equal(response.status, 404, path);
      assert.equal(response.json().error, "route_not_found");
    }
    const post = await httpsRequest(`${base}/login`, { ca, method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.deepEqual([post.status, post.json().error], [404, "route_not_found"]);
    const health = await httpsRequest(`${base}/v1/sys/health`, { ca });
    assert.equal(health.json().sealed, false);
    const head = await httpsRequest(`${base}/`, { ca, method: "HEAD" });
    assert.deepEqual([head.status, head.text], [200, ""]);
  });

  it("serves nothing outside the directory: traversal, encoded traversal and symbolic links fail", async () => {
    const attempts = [
      "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
      "/%2e%2e%2f%2e%2e%2fsecret.txt", "/..\\secret.txt", "/linked.txt", "/linked-dir/secret.txt", "/linked-dir%2fsecret.txt",
      "/assets/../../secret.txt", "//secret.txt", "/%00/secret.txt", "/assets/app-Ab12Cd34.js%00.txt",
    ];
    for (const path of attempts) {
      const response = await rawGet(port, ca, path);
      assert.ok(!response.text.includes(secretMarker), `${path} leaked a file outside the web app`);
      assert.ok(response.status === 404 || response.status === 400 || (response.status === 200 && response.text.includes("<title>app</title>")), `${path}: ${response.status}`);
    }
  });

  it("without a build, pages say how to build it and the API still answers", async () => {
    const bare = await startApp(join(dir, "no-such-dist"));
    const page = await httpsRequest(`${bare.base}/login`, { ca });
    assert.equal(page.status, 503);
    assert.match(page.text, /npm run build:web/);
    assert.equal((await httpsRequest(`${bare.base}/v1/sys/health`, { ca })).status, 200);
    assert.equal((await httpsRequest(`${bare.base}/assets/app.js`, { ca })).status, 404);
  });
});
