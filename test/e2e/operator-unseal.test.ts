// The operator's path end to end, with real processes: init 5-of-3, a restarted server is sealed,
// shares unseal it through the CLI, bad shares are refused, rekey retires the old shares.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { httpsRequest } from "../support/https-request.ts";
import { runCli, startServerProcess, type ServerProcess } from "../support/server-process.ts";

describe("operator init, unseal, rekey, rotate through the CLI", () => {
  let dataDir: string;
  let otherDir: string;
  let server: ServerProcess;
  let shares: string[];
  let url: string;
  let ca: Buffer;
  const secretsSeen: string[] = [];
  const env = () => ({ STRONGROOM_DATA_DIR: dataDir, STRONGROOM_LOG_LEVEL: "debug" });
  const unseal = (share: string) => runCli(["operator", "unseal", "--server", url, "--json"], { env: env(), stdin: `${share}\n` });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sr-e2e-"));
    otherDir = await mkdtemp(join(tmpdir(), "sr-e2e-other-"));
  });
  after(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(otherDir, { recursive: true, force: true });
  });

  it("init prints the shares once and refuses a second init", async () => {
    const result = await runCli(["operator", "init", "--shares", "5", "--threshold", "3", "--json"], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as { shares: string[]; threshold: number };
    assert.equal(printed.shares.length, 5);
    assert.equal(printed.threshold, 3);
    shares = printed.shares;
    secretsSeen.push(...shares);
    const again = await runCli(["operator", "init", "--shares", "5", "--threshold", "3"], { env: env() });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already_initialized/);
    assert.equal(again.stdout, "");
    const usage = await runCli(["operator", "init", "--shares", "five"], { env: env() });
    assert.equal(usage.code, 2);
  });

  it("a started server is sealed; two shares leave it sealed", async () => {
    server = await startServerProcess([], env());
    url = `https://localhost:${server.httpsPort}`;
    ca = await readFile(join(dataDir, "tls", "localhost-cert.pem"));
    const health = await httpsRequest(`${url}/v1/sys/health`, { ca });
    assert.deepEqual([health.status, health.json().sealed], [503, true]);
    assert.equal(JSON.parse((await unseal(shares[0]!)).stdout).progress, 1);
    const second = JSON.parse((await unseal(shares[3]!)).stdout);
    assert.deepEqual([second.sealed, second.progress], [true, 2]);
  });

  it("a repeated share and another installation's shares are refused and leave it sealed", async () => {
    const repeated = await unseal(shares[3]!);
    assert.equal(repeated.code, 1);
    assert.match(repeated.stderr, /share_repeated/);
    const foreign = await runCli(["operator", "init", "--shares", "5", "--threshold", "3", "--json"], { env: { STRONGROOM_DATA_DIR: otherDir } });
    const foreignShares = JSON.parse(foreign.stdout).shares as string[];
    secretsSeen.push(...foreignShares);
    const refused = await unseal(foreignShares[0]!);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /share_foreign_installation/);
    assert.equal((await httpsRequest(`${url}/v1/sys/health`, { ca })).status, 503);
  });

  it("the third share unseals it", async () => {
    const third = await unseal(shares[1]!);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(JSON.parse(third.stdout).sealed, false);
    const health = await httpsRequest(`${url}/v1/sys/health`, { ca });
    assert.deepEqual([health.status, health.json().sealed], [200, false]);
  });

  it("rotate adds a keyring term online; seal seals it", async () => {
    const rotated = await runCli(["operator", "rotate", "--server", url, "--json"], { env: env() });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(JSON.parse(rotated.stdout).term, 2);
    const sealed = await runCli(["operator", "seal", "--server", url, "--json"], { env: env() });
    assert.equal(JSON.parse(sealed.stdout).sealed, true);
    const status = await runCli(["operator", "status", "--server", url, "--json"], { env: env() });
    assert.deepEqual(JSON.parse(status.stdout), { initialized: true, sealed: true, threshold: 3, shares: 5, progress: 0 });
  });

  it("rekey gives a new share set; the old shares no longer unseal, the new ones do", async () => {
    const rekeyed = await runCli(["operator", "rekey", "--shares", "3", "--threshold", "2", "--json"], {
      env: env(),
      stdin: `${shares[0]}\n${shares[2]}\n${shares[4]}\n`,
    });
    assert.equal(rekeyed.code, 0, rekeyed.stderr);
    const fresh = JSON.parse(rekeyed.stdout).shares as string[];
    secretsSeen.push(...fresh);
    await unseal(shares[0]!);
    const old = await unseal(shares[1]!);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /unseal_failed/);
    assert.equal((await httpsRequest(`${url}/v1/sys/health`, { ca })).status, 503);
    await unseal(fresh[2]!);
    assert.equal(JSON.parse((await unseal(fresh[0]!)).stdout).sealed, false);
  });

  it("a restarted server is sealed again, and no share ever reached its output", async () => {
    assert.equal(await server.stop(), 0);
    const first = server.output();
    server = await startServerProcess([], env());
    const health = await httpsRequest(`https://localhost:${server.httpsPort}/v1/sys/health`, { ca });
    assert.equal(health.json().sealed, true);
    const output = first + server.output();
    for (const share of secretsSeen) assert.ok(!output.includes(share.split("-")[2]!), "a share reached the server output");
  });
});
