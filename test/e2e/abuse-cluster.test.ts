// Two server nodes sharing one Redis enforce one limit between them: guesses spread over both nodes
// spend one budget, a ban raised by one node is enforced, listed and lifted through the other, and
// per-address request limits are counted once. A node whose Redis does not answer refuses (fail closed).
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
import type { CounterStore } from "../../src/modules/abuse/counter-store.ts";
import { createRedisCounterStore } from "../../src/modules/abuse/redis-counter-store.ts";
import { dropTestKeys, redisSkipReason, testKeyPrefix, testRedisUrl } from "../../src/modules/abuse/redis-for-tests.ts";
import { createSignInAccountLookups } from "../../src/modules/abuse/sign-in-accounts.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createSecurityEvents, type SecurityEvent } from "../../src/modules/monitoring/security-events.ts";
import { ensureSelfSignedCertificate, type CertificateFiles } from "../../src/vault/self-signed-certificate.ts";
import { createVault, type Vault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startMailServer, tokenIn, type MailServer } from "../support/mail-server.ts";
import { WebClient } from "../support/web-client.ts";

const erin = { email: "erin@e.example", password: "erin guards the cluster well 5", name: "Erin" };

const config = abuseConfigSchema.parse({
  limits: { default: { perIp: { limit: 40, windowSeconds: 10 } } },
  login: { perAccountIp: { limit: 4, windowSeconds: 60 }, freeFailures: 100 },
  ban: { strikes: 12, windowSeconds: 60, durationSeconds: 30 },
});

describe("two nodes sharing Redis enforce one limit", { skip: await redisSkipReason() }, () => {
  let test: TestDatabase;
  let dir: string;
  let mail: MailServer;
  let certificate: CertificateFiles;
  let ca: Buffer;
  let vault: Vault;
  let identity: IdentityDeps;
  const prefix = testKeyPrefix();
  const nodes: { app: FastifyInstance; store: CounterStore; base: string }[] = [];
  const events: SecurityEvent[] = [];

  async function startNode(store: CounterStore): Promise<{ app: FastifyInstance; store: CounterStore; base: string }> {
    const logger = createLogger({ level: "silent" });
    const securityEvents = createSecurityEvents();
    securityEvents.subscribe((event) => { events.push(event); });
    const lookups = createSignInAccountLookups(identity);
    const guard = createAbuseGuard({ store, config, events: securityEvents, log: logger, userIdOfAccount: lookups.userIdOfAccount });
    const app = await buildApp({
      vault, logger, certificate, identity, version: "test", abuse: guard,
      bodyLimitBytes: 64 * 1024, trustedProxies: ["127.0.0.1"], operatorCidrs: ["127.0.0.1/32"],
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const node = { app, store, base: `https://127.0.0.1:${(app.server.address() as { port: number }).port}` };
    nodes.push(node);
    return node;
  }

  const client = (node: { base: string }, address?: string) => new WebClient(node.base, ca, address ? { "x-forwarded-for": address } : {});

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-abuse-cluster-"));
    mail = await startMailServer();
    certificate = await ensureSelfSignedCertificate(dir);
    ca = await readFile(certificate.certFile);
    vault = createVault(createVaultRepository(test.database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    identity = createIdentityDeps({
      db: test.database.db,
      vault,
      messages: createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "strongroom@test.example" }),
      publicUrl: "https://localhost",
    });
    // Two nodes, each with its own connection to the shared Redis.
    await startNode(createRedisCounterStore({ url: testRedisUrl, keyPrefix: prefix }));
    await startNode(createRedisCounterStore({ url: testRedisUrl, keyPrefix: prefix }));

    const since = mail.received.length;
    assert.equal((await client(nodes[0]!, "198.51.100.20").post("/v1/auth/signup", { companyName: "Erin's", ...erin })).status, 202);
    assert.equal((await client(nodes[1]!, "198.51.100.20").post("/v1/auth/verify-email", { token: tokenIn(await mail.next(erin.email, since)) })).status, 200);
  });

  after(async () => {
    for (const node of nodes) {
      await node.app.close();
      await node.store.close();
    }
    await mail?.close();
    await test?.cleanup();
    await rm(dir, { recursive: true, force: true });
    await dropTestKeys(prefix);
  });

  it("guesses spread over both nodes spend one budget, and a ban from one node holds on the other", async () => {
    const attacker = "203.0.113.70";
    const [a, b] = [nodes[0]!, nodes[1]!];
    const answers = await Promise.all(Array.from({ length: 40 }, (_, index) =>
      client(index % 2 ? a : b, attacker).post("/v1/auth/login", { email: erin.email, password: `guess ${index}` })));
    const checked = answers.filter((answer) => answer.status === 401).length;
    assert.ok(checked >= 1 && checked <= config.login.perAccountIp.limit, `${checked} password checks across both nodes`);
    assert.equal(answers.filter((answer) => answer.status === 429).length, 40 - checked);
    assert.ok(events.some((event) => event.type === "ban" && event.ip === attacker));

    // Both nodes refuse the banned address and both list the ban.
    for (const node of [a, b]) {
      const refused = await client(node, attacker).get("/v1/auth/session");
      assert.equal(refused.status, 429);
      assert.match(refused.json().message, /blocked/);
      const bans = (await client(node).get("/v1/sys/bans")).json().bans as { address: string }[];
      assert.ok(bans.some((ban) => ban.address === attacker));
    }
    // Lifted through node B, it is lifted on node A.
    assert.equal((await client(b).request("DELETE", `/v1/sys/bans/${attacker}`)).status, 200);
    assert.equal((await client(a, attacker).get("/v1/auth/session")).status, 401);
  });

  it("a per-address limit is counted once across both nodes", async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, index) => client(nodes[index % 2]!, "203.0.113.71").get("/v1/auth/session")));
    assert.equal(answers.filter((answer) => answer.status === 401).length, config.limits.default.perIp.limit);
    assert.equal(answers.filter((answer) => answer.status === 429).length, 60 - config.limits.default.perIp.limit);
  });

  it("a node whose Redis does not answer refuses requests instead of letting them through", async () => {
    const dead = await startNode(createRedisCounterStore({ url: "redis://127.0.0.1:1", keyPrefix: testKeyPrefix(), commandTimeoutMs: 500 }));
    const read = await client(dead, "203.0.113.72").get("/v1/auth/session");
    assert.deepEqual([read.status, read.json().error], [503, "rate_limit_unavailable"]);
    const login = await client(dead, "203.0.113.72").post("/v1/auth/login", { email: erin.email, password: erin.password });
    assert.deepEqual([login.status, login.json().error], [503, "rate_limit_unavailable"], "no password is checked without the limiter");
    const bans = await client(dead).get("/v1/sys/bans");
    assert.deepEqual([bans.status, bans.json().error], [503, "rate_limit_unavailable"]);
  });
});
