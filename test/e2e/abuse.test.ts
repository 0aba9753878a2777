// Automatic blocking (P5) against a running server on loopback, with short windows: a password
// flood from one address is cut off and banned, and the ban expires; a flood spread over 200 forged
// addresses (through a trusted proxy) gets nowhere while the real user still signs in with the
// new-device code; progressive delays; credential stuffing; per-class limits with Retry-After; the
// per-API-key quota; the operator's ban list. Every request goes to 127.0.0.1 and every loop is
// bounded in count and time.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { abuseConfigSchema } from "../../src/modules/abuse/abuse-config.ts";
import { createAbuseGuard } from "../../src/modules/abuse/abuse-guard.ts";
import { createMemoryCounterStore } from "../../src/modules/abuse/memory-counter-store.ts";
import { createSignInAccountLookups } from "../../src/modules/abuse/sign-in-accounts.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createSecurityEvents, type SecurityEvent } from "../../src/modules/monitoring/security-events.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import type { TestResponse } from "../support/https-request.ts";
import { codeIn, startMailServer, tokenIn, type MailServer } from "../support/mail-server.ts";
import { WebClient } from "../support/web-client.ts";

type Person = { email: string; password: string; name: string; home: string };
const alice: Person = { email: "alice@a.example", password: "correct horse battery staple A1", name: "Alice", home: "198.51.100.7" };
const bob: Person = { email: "bob@b.example", password: "bob's long and unusual passphrase", name: "Bob", home: "198.51.100.8" };
const carol: Person = { email: "carol@c.example", password: "carol keeps company C safe 42", name: "Carol", home: "198.51.100.9" };
const dave: Person = { email: "dave@d.example", password: "dave's door has seven locks 7", name: "Dave", home: "198.51.100.10" };

const config = abuseConfigSchema.parse({
  limits: {
    login: { perIp: { limit: 40, windowSeconds: 60 } },
    code: { perIp: { limit: 10, windowSeconds: 2 } },
    default: { perIp: { limit: 40, windowSeconds: 2 } },
    api: { perAccount: { limit: 20, windowSeconds: 60 } },
  },
  login: {
    perAccountIp: { limit: 5, windowSeconds: 60 },
    perAccountUnknownAddresses: { limit: 20, windowSeconds: 60 },
    freeFailures: 2,
    delayBaseMs: 400,
    delayMaxMs: 1600,
  },
  ban: { strikes: 25, windowSeconds: 60, durationSeconds: 2, maxDurationSeconds: 8 },
  detection: { stuffingAccounts: 8, burstAddresses: 10, windowSeconds: 60 },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs `total` requests, `concurrency` at a time, and stops at the deadline (the test then fails).
async function flood(total: number, concurrency: number, deadlineMs: number, send: (index: number) => Promise<TestResponse>): Promise<TestResponse[]> {
  const answers: TestResponse[] = [];
  const deadline = Date.now() + deadlineMs;
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total && Date.now() < deadline) answers.push(await send(next++));
  }));
  assert.equal(answers.length, total, `the flood finished within ${deadlineMs} ms`);
  return answers;
}

function tally(answers: TestResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = `${answer.status} ${answer.json().error ?? answer.json().status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe("automatic blocking of abuse (P5)", () => {
  let test: TestDatabase;
  let dir: string;
  let mail: MailServer;
  let app: FastifyInstance;
  let base: string;
  let ca: Buffer;
  const events: SecurityEvent[] = [];
  let aliceId: string;
  let aliceBrowser: WebClient;
  let tenantA: string;

  const from = (address: string | undefined, headers: Record<string, string> = {}) =>
    new WebClient(base, ca, address ? { "x-forwarded-for": address, ...headers } : headers);
  const operator = () => from(undefined);

  async function signUp(person: Person): Promise<void> {
    const since = mail.received.length;
    const signup = await from(person.home).post("/v1/auth/signup", { companyName: `${person.name}'s company`, name: person.name, email: person.email, password: person.password });
    assert.equal(signup.status, 202, signup.text);
    const verified = await from(person.home).post("/v1/auth/verify-email", { token: tokenIn(await mail.next(person.email, since)) });
    assert.equal(verified.status, 200, verified.text);
  }

  async function signInWithCode(client: WebClient, person: Person): Promise<TestResponse> {
    const since = mail.received.length;
    const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
    assert.deepEqual([login.status, login.json().status], [202, "code_required"], login.text);
    const code = codeIn(await mail.next(person.email, since));
    return client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code });
  }

  async function waitForBanToEnd(address: string, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline) {
      const listed = (await operator().get("/v1/sys/bans")).json().bans as { address: string }[];
      if (!listed.some((ban) => ban.address === address)) return;
      await sleep(200);
    }
    assert.fail(`the ban on ${address} did not end within ${withinMs} ms`);
  }

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-abuse-"));
    mail = await startMailServer();
    const certificate = await ensureSelfSignedCertificate(dir);
    ca = await readFile(certificate.certFile);
    const vault = createVault(createVaultRepository(test.database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    const logger = createLogger({ level: "silent" });
    const identity = createIdentityDeps({
      db: test.database.db,
      vault,
      messages: createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "strongroom@test.example" }),
      publicUrl: "https://localhost",
    });
    const securityEvents = createSecurityEvents();
    securityEvents.subscribe((event) => { events.push(event); });
    const lookups = createSignInAccountLookups(identity);
    const guard = createAbuseGuard({ store: createMemoryCounterStore(), config, events: securityEvents, log: logger, userIdOfAccount: lookups.userIdOfAccount });
    app = await buildApp({
      vault, logger, certificate, identity, version: "test", abuse: guard,
      bodyLimitBytes: 64 * 1024,
      // The test client is the proxy: X-Forwarded-For from 127.0.0.1 is believed.
      trustedProxies: ["127.0.0.1"],
      operatorCidrs: ["127.0.0.1/32"],
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `https://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    for (const person of [alice, bob, carol, dave]) await signUp(person);
    // Alice has signed in from home before: her address is known to her account.
    aliceBrowser = from(alice.home);
    assert.equal((await signInWithCode(aliceBrowser, alice)).status, 200);
    const session = (await aliceBrowser.get("/v1/auth/session")).json();
    aliceId = session.user.id;
    tenantA = session.tenants[0].id;
  });

  after(async () => {
    await app?.close();
    await mail?.close();
    await test?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("2,000 password guesses from one address: a handful reach the password check, then the address is banned", async (t) => {
    const attacker = "203.0.113.10";
    const answers = await flood(2000, 25, 30_000, (index) => from(attacker).post("/v1/auth/login", { email: bob.email, password: `guess number ${index}` }));
    const counts = tally(answers);
    const checked = counts["401 invalid_credentials"] ?? 0;
    t.diagnostic(`answers: ${JSON.stringify(counts)}`);
    assert.ok(checked >= 1 && checked <= config.login.perAccountIp.limit, `password checks: ${JSON.stringify(counts)}`);
    assert.equal(checked + (counts["429 too_many_requests"] ?? 0), 2000, `only 401 and 429: ${JSON.stringify(counts)}`);
    for (const answer of answers.filter((response) => response.status === 429)) {
      assert.match(String(answer.headers["retry-after"]), /^[1-9]\d*$/, "every refusal says when to come back");
    }
    assert.ok(events.some((event) => event.type === "ban" && event.ip === attacker), "a ban event was emitted");
    const bans = (await operator().get("/v1/sys/bans")).json().bans as { address: string; reason: string; expiresAt: string }[];
    const ban = bans.find((entry) => entry.address === attacker);
    assert.ok(ban, "the operator sees the ban");
    assert.ok(Date.parse(ban.expiresAt) > Date.now());

    // Banned means every route, not only sign-in.
    const elsewhere = await from(attacker).get("/v1/auth/session");
    assert.equal(elsewhere.status, 429);
    assert.match(elsewhere.json().message, /blocked/);
    // Bob, from home, is not affected at all.
    assert.equal((await from(bob.home).post("/v1/auth/login", { email: bob.email, password: bob.password })).status, 202);

    // The ban expires by itself: the address is answered again, and what is left is the ordinary
    // limits, whose windows it has spent (sign-in from it stays refused until they end).
    await waitForBanToEnd(attacker, 12_000);
    const afterBan = await from(attacker).get("/v1/auth/session");
    assert.deepEqual([afterBan.status, afterBan.json().error], [401, "session_required"]);
    const stillThrottled = await from(attacker).post("/v1/auth/login", { email: bob.email, password: bob.password });
    assert.equal(stillThrottled.status, 429);
    assert.doesNotMatch(stillThrottled.json().message, /blocked/);
  });

  it("2,000 guesses from 200 forged addresses against one account get nowhere; the real user still signs in", async (t) => {
    const addresses = Array.from({ length: 200 }, (_, index) => `100.64.${Math.floor(index / 100)}.${(index % 100) + 1}`);
    const answers = await flood(2000, 50, 40_000, (index) => from(addresses[index % 200]).post("/v1/auth/login", { email: alice.email, password: `distributed guess ${index}` }));
    const counts = tally(answers);
    const checked = counts["401 invalid_credentials"] ?? 0;
    t.diagnostic(`answers: ${JSON.stringify(counts)}`);
    assert.equal(checked + (counts["429 too_many_requests"] ?? 0), 2000, `every guess refused: ${JSON.stringify(counts)}`);
    assert.ok(checked <= config.login.perAccountUnknownAddresses.limit, `Alice's password was checked ${checked} times`);
    assert.ok(events.some((event) => event.type === "failed_login_burst" && event.userId === aliceId), "a failed-login burst was raised for Alice");

    // Alice, from her own address, in a browser this account has never seen: password, then the code.
    const fresh = from(alice.home);
    const signedIn = await signInWithCode(fresh, alice);
    assert.deepEqual([signedIn.status, signedIn.json().status], [200, "signed_in"]);
    // On the road, her known browser (device cookie) still gets in.
    const travelling = from("192.0.2.77");
    travelling.cookies.set("__Host-sr_device", fresh.cookies.get("__Host-sr_device")!);
    const onTheRoad = await travelling.post("/v1/auth/login", { email: alice.email, password: alice.password });
    assert.deepEqual([onTheRoad.status, onTheRoad.json().status], [200, "signed_in"]);
    // A new browser at a new address waits out the attack window: that is the price of the shared budget.
    const stranger = await from("192.0.2.78").post("/v1/auth/login", { email: alice.email, password: alice.password });
    assert.equal(stranger.status, 429);
  });

  it("failed sign-ins from one address and account wait longer each time; the right password resets the wait", async () => {
    const client = from("203.0.113.30");
    const attempt = (password: string) => client.post("/v1/auth/login", { email: dave.email, password });
    assert.equal((await attempt("wrong one")).status, 401);
    assert.equal((await attempt("wrong two")).status, 401);
    const waiting = await attempt("wrong three");
    assert.deepEqual([waiting.status, waiting.json().error, waiting.headers["retry-after"]], [429, "too_many_requests", "1"]);
    await sleep(450);
    assert.equal((await attempt("wrong three")).status, 401, "after 400 ms the next try is checked");
    await sleep(450);
    const longer = await attempt("wrong four");
    assert.equal(longer.status, 429, "the wait has doubled to 800 ms");
    await sleep(Number(longer.headers["retry-after"]) * 1000);
    assert.equal((await attempt(dave.password)).status, 202, "the right password after the wait");
    assert.equal((await attempt("wrong again")).status, 401);
    assert.equal((await attempt("wrong again")).status, 401, "the count started again");
  });

  it("one address failing across many accounts is reported as credential stuffing", async () => {
    const client = from("203.0.113.20");
    for (let index = 0; index < config.detection.stuffingAccounts; index++) {
      assert.equal((await client.post("/v1/auth/login", { email: `user${index}@stuffed.example`, password: "Winter2024!" })).status, 401);
    }
    const raised = events.filter((event) => event.type === "credential_stuffing" && event.ip === "203.0.113.20");
    assert.equal(raised.length, 1);
    assert.equal(raised[0]!.details.distinctAccounts, config.detection.stuffingAccounts);
  });

  it("each route class has its own per-address limit, answered with 429 and Retry-After", async () => {
    const reads = await Promise.all(Array.from({ length: 50 }, () => from("203.0.113.40").get("/v1/auth/session")));
    assert.deepEqual(tally(reads), { "401 session_required": 40, "429 too_many_requests": 10 });
    const retryAfter = Number(reads.find((response) => response.status === 429)!.headers["retry-after"]);
    assert.ok(retryAfter >= 1 && retryAfter <= 2);
    // Code entry has a tighter limit, counted apart from the default class.
    const codes = await Promise.all(Array.from({ length: 12 }, () => from("203.0.113.40").post("/v1/auth/login/code", { challengeToken: "x".repeat(43), code: "123456" })));
    assert.deepEqual(tally(codes), { "400 code_expired": 10, "429 too_many_requests": 2 });
    await sleep(2100);
    assert.equal((await from("203.0.113.40").get("/v1/auth/session")).status, 401, "a new window");
    // Health probes are never limited.
    const probes = await Promise.all(Array.from({ length: 60 }, () => from("203.0.113.41").get("/v1/sys/health")));
    assert.ok(probes.every((response) => response.status === 200));
  });

  it("each API key has its quota of requests per minute; forged keys cannot spend it", async () => {
    const created = await aliceBrowser.post(`/v1/tenants/${tenantA}/api-keys`, { name: "reporting", scopes: ["read"] });
    assert.equal(created.status, 201, created.text);
    const key = created.json().key as string;
    const basic = (value: string) => ({ authorization: `Basic ${Buffer.from(value).toString("base64")}` });
    // Someone who knows the key id but not the secret: refused, and banned, without touching the quota.
    const forged = await Promise.all(Array.from({ length: 30 }, () => from("203.0.113.51", basic(`${created.json().id}:not-the-secret`)).get(`/v1/tenants/${tenantA}`)));
    assert.ok(forged.every((response) => response.status === 401 || response.status === 429));
    assert.ok(events.some((event) => event.type === "ban" && event.ip === "203.0.113.51"));

    const answers: TestResponse[] = [];
    for (let index = 0; index < 25; index++) answers.push(await from("203.0.113.50", basic(key)).get(`/v1/tenants/${tenantA}`));
    assert.deepEqual(answers.map((response) => response.status), [...Array(20).fill(200), ...Array(5).fill(429)]);
    const elsewhere = await from("203.0.113.52", basic(key)).get(`/v1/tenants/${tenantA}`);
    assert.equal(elsewhere.status, 429, "the quota belongs to the key, not the address");
    assert.ok(Number(elsewhere.headers["retry-after"]) <= 60);
  });

  it("the operator lists and lifts bans, from operator addresses only", async () => {
    const refused = await from("203.0.113.60").get("/v1/sys/bans");
    assert.deepEqual([refused.status, refused.json().error], [403, "ip_not_allowed"]);
    const banned = "203.0.113.51";
    assert.equal((await from(banned).get("/v1/sys/health")).status, 429, "still banned");
    const lifted = await operator().request("DELETE", `/v1/sys/bans/${banned}`);
    assert.deepEqual([lifted.status, lifted.json()], [200, { status: "lifted", address: banned }]);
    assert.equal((await from(banned).get("/v1/sys/health")).status, 200);
    assert.equal((await operator().request("DELETE", `/v1/sys/bans/${banned}`)).status, 404);
    const invalid = await operator().request("DELETE", "/v1/sys/bans/not-an-address");
    assert.deepEqual([invalid.status, invalid.json().error], [400, "validation_failed"]);
    // An operator whose own address was banned can still reach the ban list to lift it.
    const events0 = events.length;
    for (let index = 0; index < config.ban.strikes; index++) await from("127.0.0.1").post("/v1/auth/login", { email: `nobody${index}@x.example`, password: "x" });
    assert.ok(events.slice(events0).some((event) => event.type === "ban" && event.ip === "127.0.0.1"));
    assert.equal((await operator().get("/v1/auth/session")).status, 429);
    assert.equal((await operator().request("DELETE", "/v1/sys/bans/127.0.0.1")).status, 200);
    assert.equal((await operator().get("/v1/auth/session")).status, 401);
  });
});
