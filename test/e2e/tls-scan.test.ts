// P1: testssl.sh (Debian package) scans the running server: no protocol below TLS 1.2, only forward-
// secret AEAD suites, HSTS with preload, and the plain HTTP port only redirects.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

const testssl = ["/usr/bin/testssl", "/usr/bin/testssl.sh"].find((path) => existsSync(path));
const skip = testssl ? false : process.env.CI === "true" ? false : "testssl.sh is not installed (apt-get install testssl.sh)";

type Finding = { id: string; severity: string; finding: string };

describe("TLS configuration seen by testssl.sh", { skip, timeout: 240_000 }, () => {
  let dir: string;
  let server: ServerProcess;
  let findings: Finding[];
  const byId = (id: string) => findings.find((finding) => finding.id === id)?.finding ?? "(missing)";

  before(async () => {
    assert.ok(testssl, "testssl.sh must be installed on CI");
    dir = await mkdtemp(join(tmpdir(), "sr-tls-"));
    server = await startServerProcess([], { STRONGROOM_DATA_DIR: dir });
    const report = join(dir, "testssl.json");
    await promisify(execFile)(
      testssl,
      ["--quiet", "--color", "0", "--warnings", "batch", "--connect-timeout", "10", "--openssl-timeout", "10",
        "-p", "-E", "-f", "-s", "-h", "--jsonfile", report, `https://localhost:${server.httpsPort}/v1/sys/health`],
      { timeout: 200_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { code?: number }) => {
      // testssl exits non-zero when it finds something to warn about; the report is what we judge.
      if (!existsSync(report)) throw error;
    });
    findings = JSON.parse(await readFile(report, "utf8")) as Finding[];
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("offers TLS 1.2 and 1.3 and nothing older", () => {
    for (const old of ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]) assert.match(byId(old), /not offered/, old);
    assert.match(byId("TLS1_2"), /^offered/);
    assert.match(byId("TLS1_3"), /^offered/);
  });

  it("offers no weak cipher category", () => {
    for (const category of ["cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"]) {
      assert.match(byId(category), /not offered/, category);
    }
  });

  it("every offered suite is forward-secret (ECDHE) and AEAD", () => {
    const suites = findings.filter((finding) => finding.id.startsWith("cipher-tls"));
    assert.ok(suites.length >= 3, "testssl listed the offered suites");
    for (const suite of suites) {
      assert.match(suite.finding, /ECDH/, suite.finding);
      assert.match(suite.finding, /AESGCM|ChaCha20/, suite.finding);
    }
  });

  it("sends HSTS for two years with includeSubDomains and preload", () => {
    assert.match(byId("HSTS_time"), /63072000/);
    assert.match(byId("HSTS_subdomains"), /includes subdomains/);
    assert.match(byId("HSTS_preload"), /marked for preloading/);
  });

  it("the plain HTTP port only redirects to HTTPS", async () => {
    const response = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      request({ host: "127.0.0.1", port: server.httpPort, path: "/v1/sys/health?x=1", headers: { host: "localhost" } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      }).on("error", reject).end();
    });
    assert.equal(response.status, 308);
    assert.equal(response.location, `https://localhost:${server.httpsPort}/v1/sys/health?x=1`);
  });
});
