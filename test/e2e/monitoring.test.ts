// Monitoring end to end on SQLite and PostgreSQL: companies' admins configure alert channels over HTTPS;
// every security event type reaches a real HTTPS webhook receiver signed with the secret shown once;
// companies never see each other's events while the operator sees all; a failing receiver is retried
// with backoff and then given up, recorded; e-mail alerts reach a real SMTP server; /metrics answers
// the operator addresses only and its counters move; no secret is stored or logged in plaintext.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/http/app.ts";
import { createAuthenticator } from "../../src/http/authenticate.ts";
import { createAddressFilter } from "../../src/http/ip-filter.ts";
import { createLogger } from "../../src/log/logger.ts";
import { emailIndexOf } from "../../src/modules/accounts/user-fields.ts";
import { signUp } from "../../src/modules/accounts/sign-up.ts";
import { createApiKey } from "../../src/modules/api-keys/api-keys.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createAlertDispatcher, type AlertDispatcher } from "../../src/modules/monitoring/alert-dispatcher.ts";
import { registerMonitoringRoutes } from "../../src/modules/monitoring/alert-routes.ts";
import { createDetectors } from "../../src/modules/monitoring/detectors.ts";
import { createMetrics, registerMetricsRoute, type Metrics } from "../../src/modules/monitoring/metrics.ts";
import { createSecurityEvents, securityEventTypes, type SecurityEvents } from "../../src/modules/monitoring/security-events.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault, type Vault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import { httpsRequest, type TestResponse } from "../support/https-request.ts";
import { startMailServer, type MailServer } from "../support/mail-server.ts";

type Hit = { path: string; headers: IncomingHttpHeaders; body: string; at: number };

const operatorSecret = "operator-webhook-secret-0123456789abcdef";
const operatorEmail = "ops@operator.example";
const retry = { maxAttempts: 3, baseDelayMs: 60, maxDelayMs: 10_000 };

// A real HTTPS webhook receiver: /fail answers 500, /gone 410, anything else 204; every hit is kept.
async function startReceiver(cert: Buffer, key: Buffer): Promise<{ server: Server; port: number; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer({ cert, key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const path = request.url ?? "/";
      hits.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), at: performance.now() });
      response.statusCode = path === "/fail" ? 500 : path === "/gone" ? 410 : 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

function verifySignature(hit: Hit, secret: string): void {
  const header = String(hit.headers["x-strongroom-signature"] ?? "");
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  assert.ok(match, `signature header has the documented form: ${header}`);
  const t = Number(match[1]);
  assert.ok(Math.abs(Date.now() / 1000 - t) < 300, "the timestamp is current");
  const expected = createHmac("sha256", secret).update(`${t}.${hit.body}`).digest();
  assert.ok(timingSafeEqual(expected, Buffer.from(match[2]!, "hex")), "the HMAC verifies with the secret");
  assert.ok(!hit.body.includes(secret), "the secret is not in the body");
  assert.ok(!JSON.stringify(hit.headers).includes(secret), "the secret is not in a header");
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const kind of databaseKinds) {
  describe(`monitoring and alerts (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let dir: string;
    let mail: MailServer;
    let app: FastifyInstance;
    let vault: Vault;
    let events: SecurityEvents;
    let alerts: AlertDispatcher;
    let metrics: Metrics;
    let identity: IdentityDeps;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let base: string;
    let ca: Buffer;
    const logLines: string[] = [];
    const secrets: string[] = [];
    const company = { a: { tenantId: "", userId: "", admin: "", reader: "" }, b: { tenantId: "", userId: "", admin: "" } };
    const channel = { a: { id: "", secret: "" }, b: { id: "", secret: "" } };
    const db = () => test.database.db;
    const hook = (path: string) => `https://127.0.0.1:${receiver.port}${path}`;
    const hitsTo = (path: string) => receiver.hits.filter((hit) => hit.path === path);

    const call = (method: string, path: string, key: string, body?: unknown): Promise<TestResponse> =>
      httpsRequest(`${base}${path}`, {
        ca,
        method,
        headers: { authorization: `Basic ${Buffer.from(key).toString("base64")}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    async function makeCompany(email: string, name: string) {
      await signUp(identity, { companyName: name, name, email, password: `${name} keeps a long passphrase 2026` });
      const user = await db().selectFrom("users").select("id").where("email_index", "=", emailIndexOf(vault, email)).executeTakeFirstOrThrow();
      const membership = await db().selectFrom("memberships").select("tenant_id").where("user_id", "=", user.id).executeTakeFirstOrThrow();
      const admin = await createApiKey(db(), vault, { tenantId: membership.tenant_id, createdBy: user.id, name: "alerts admin", scopes: ["admin"], expiresAt: null });
      secrets.push(admin.key);
      return { tenantId: membership.tenant_id, userId: user.id, admin: admin.key };
    }

    async function scrape(): Promise<string> {
      const response = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "127.0.0.1" });
      assert.equal(response.statusCode, 200, response.body);
      return response.body;
    }

    const sample = (text: string, series: string) => {
      const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : 0;
    };

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-monitoring-"));
      mail = await startMailServer();
      const certificate = await ensureSelfSignedCertificate(join(dir, "server"));
      ca = await readFile(certificate.certFile);
      const receiverCertificate = await ensureSelfSignedCertificate(join(dir, "receiver"));
      const receiverCa = await readFile(receiverCertificate.certFile);
      receiver = await startReceiver(receiverCa, await readFile(receiverCertificate.keyFile));
      vault = createVault(createVaultRepository(db()));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      const destination = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
      const log = createLogger({ level: "debug", destination });
      events = createSecurityEvents();
      const messages = createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "alerts@test.example" });
      identity = createIdentityDeps({ db: db(), vault, messages, publicUrl: "https://localhost", events });
      app = await buildApp({
        vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test",
        identity,
        audit: createAuditTrail({ db: db(), vault, log, events }),
      });
      // What the lead wires in app.ts / start-server.ts.
      metrics = createMetrics({ processMetrics: false });
      metrics.observeSecurityEvents(events);
      metrics.observeSealState(vault);
      app.addHook("onResponse", metrics.onResponse);
      alerts = createAlertDispatcher({
        db: db(), vault, messages, events, log, metrics,
        operatorConfig: { webhookUrl: hook("/operator"), webhookSecret: operatorSecret, email: operatorEmail },
        trustedCa: receiverCa,
        allowLoopbackTargets: true,
        retry,
        timeoutMs: 3_000,
        maxPerChannelPerMinute: 10_000,
      });
      await registerMonitoringRoutes(app, { db: db(), vault, alerts }, createAuthenticator(identity));
      registerMetricsRoute(app, { registry: metrics.registry, operatorFilter: createAddressFilter(["127.0.0.1/32"]) });
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `https://localhost:${(app.server.address() as AddressInfo).port}`;
      secrets.push(operatorSecret);

      const a = await makeCompany("alice@a.example", "Alice");
      const reader = await createApiKey(db(), vault, { tenantId: a.tenantId, createdBy: a.userId, name: "reader", scopes: ["read"], expiresAt: null });
      secrets.push(reader.key);
      company.a = { ...a, reader: reader.key };
      company.b = await makeCompany("carol@b.example", "Carol");
    });

    after(async () => {
      alerts?.close();
      await app?.close();
      await new Promise((resolve) => receiver?.server.close(resolve));
      await mail?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("an admin adds a webhook channel and sees its signing secret once", async () => {
      const created = await call("POST", `/v1/tenants/${company.a.tenantId}/alert-channels`, company.a.admin, { kind: "webhook", url: hook("/a") });
      assert.equal(created.status, 201, created.text);
      assert.match(created.json().secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual([created.json().kind, created.json().url, created.json().eventTypes], ["webhook", hook("/a"), []]);
      channel.a = { id: created.json().id, secret: created.json().secret };
      secrets.push(channel.a.secret);

      const listed = await call("GET", `/v1/tenants/${company.a.tenantId}/alert-channels`, company.a.admin);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.json().channels.map((row: { id: string; url: string }) => [row.id, row.url]), [[channel.a.id, hook("/a")]]);
      assert.ok(!listed.text.includes(channel.a.secret), "the secret is never listed");
      assert.equal(listed.json().limit, 20);

      const createdB = await call("POST", `/v1/tenants/${company.b.tenantId}/alert-channels`, company.b.admin, { kind: "webhook", url: hook("/b") });
      assert.equal(createdB.status, 201, createdB.text);
      channel.b = { id: createdB.json().id, secret: createdB.json().secret };
      secrets.push(channel.b.secret);
      assert.notEqual(channel.a.secret, channel.b.secret);
    });

    it("refuses bad channels with clear errors, and keeps other companies and lesser keys out", async () => {
      const path = `/v1/tenants/${company.a.tenantId}/alert-channels`;
      const refusals: Array<[unknown, number, string]> = [
        [{ kind: "webhook", url: `http://alerts.example.com/h` }, 400, "validation_failed"],
        [{ kind: "webhook", url: "https://10.0.0.8/hook" }, 400, "validation_failed"],
        [{ kind: "webhook", url: "https://169.254.169.254/latest/meta-data" }, 400, "validation_failed"],
        [{ kind: "webhook", url: "https://user:pw@alerts.example.com/h" }, 400, "validation_failed"],
        [{ kind: "webhook" }, 400, "validation_failed"],
        [{ kind: "webhook", url: hook("/a"), email: "x@a.example" }, 400, "validation_failed"],
        [{ kind: "email", email: "not an address" }, 400, "validation_failed"],
        [{ kind: "email", email: "x@a.example", eventTypes: ["not_a_type"] }, 400, "validation_failed"],
        [{ kind: "sms", email: "x@a.example" }, 400, "validation_failed"],
      ];
      for (const [body, status, error] of refusals) {
        const response = await call("POST", path, company.a.admin, body);
        assert.deepEqual([response.status, response.json().error], [status, error], JSON.stringify(body));
      }
      const reader = await call("POST", path, company.a.reader, { kind: "webhook", url: hook("/a") });
      assert.deepEqual([reader.status, reader.json().error], [403, "insufficient_scope"]);
      assert.equal((await call("GET", path, company.a.reader)).json().error, "insufficient_scope");
      // Company B's admin key, on company A's ids: 404, as if nothing were there.
      assert.equal((await call("GET", path, company.b.admin)).status, 404);
      assert.equal((await call("DELETE", `${path}/${channel.a.id}`, company.b.admin)).status, 404);
      assert.equal((await call("DELETE", `/v1/tenants/${company.b.tenantId}/alert-channels/${channel.a.id}`, company.b.admin)).status, 404);
      assert.equal((await call("POST", `/v1/tenants/${company.b.tenantId}/alert-channels/${channel.a.id}/test`, company.b.admin)).status, 404);
      assert.equal((await call("GET", path, "srk_000000000000000000000000:nope")).status, 401);
    });

    it("allows at most 20 channels per company; deleting one frees a place", async () => {
      const path = `/v1/tenants/${company.a.tenantId}/alert-channels`;
      const extra: string[] = [];
      for (let i = 1; i < 20; i++) {
        const created = await call("POST", path, company.a.admin, { kind: "email", email: `extra${i}@a.example`, eventTypes: ["seal_failure"] });
        assert.equal(created.status, 201, created.text);
        assert.equal(created.json().secret, undefined, "e-mail channels have no secret");
        extra.push(created.json().id);
      }
      const over = await call("POST", path, company.a.admin, { kind: "email", email: "one-too-many@a.example" });
      assert.deepEqual([over.status, over.json().error], [409, "conflict"]);
      for (const id of extra) assert.equal((await call("DELETE", `${path}/${id}`, company.a.admin)).json().status, "deleted");
      assert.equal((await call("DELETE", `${path}/${extra[0]}`, company.a.admin)).status, 404, "deleting twice: not found");
      assert.equal((await call("GET", path, company.a.admin)).json().channels.length, 1);
    });

    it("every security event type reaches the company's webhook, signed, and the operator's", async () => {
      await alerts.idle();
      receiver.hits.length = 0;
      for (const type of securityEventTypes) {
        events.emit({ type, tenantId: company.a.tenantId, ip: "203.0.113.9", userId: company.a.userId, details: { sample: type, count: 3 } });
      }
      await alerts.idle();
      const toA = hitsTo("/a");
      assert.deepEqual(toA.map((hit) => hit.headers["x-strongroom-event"]).sort(), [...securityEventTypes].sort());
      for (const hit of toA) {
        verifySignature(hit, channel.a.secret);
        const body = JSON.parse(hit.body);
        assert.equal(hit.headers["content-type"], "application/json");
        assert.equal(body.type, hit.headers["x-strongroom-event"]);
        assert.equal(body.id, hit.headers["x-strongroom-delivery"]);
        assert.deepEqual([body.tenantId, body.ip, body.userId, body.details.sample], [company.a.tenantId, "203.0.113.9", company.a.userId, body.type]);
        for (const secret of secrets) assert.ok(!hit.body.includes(secret), "no secret in an alert");
      }
      const toOperator = hitsTo("/operator");
      assert.deepEqual(toOperator.map((hit) => hit.headers["x-strongroom-event"]).sort(), [...securityEventTypes].sort());
      for (const hit of toOperator) {
        verifySignature(hit, operatorSecret);
        assert.equal(JSON.parse(hit.body).tenantId, company.a.tenantId, "the operator sees which company");
      }
      assert.equal(hitsTo("/b").length, 0, "company B hears nothing of company A");
    });

    it("a company's channel never receives another company's events; installation events go to the operator only", async () => {
      await alerts.idle();
      receiver.hits.length = 0;
      events.emit({ type: "ban", tenantId: company.b.tenantId, ip: "198.51.100.4", details: { scope: "ip" } });
      events.emit({ type: "seal_failure", tenantId: null, details: { reason: "test" } });
      await alerts.idle();
      assert.deepEqual(hitsTo("/b").map((hit) => hit.headers["x-strongroom-event"]), ["ban"]);
      verifySignature(hitsTo("/b")[0]!, channel.b.secret);
      assert.equal(hitsTo("/a").length, 0);
      assert.deepEqual(hitsTo("/operator").map((hit) => hit.headers["x-strongroom-event"]).sort(), ["ban", "seal_failure"]);
    });

    it("detectors raise mass_download and permission_escalation into the same alerts", async () => {
      await alerts.idle();
      receiver.hits.length = 0;
      const detectors = createDetectors({ events, massDownload: { limit: 5, windowMs: 60_000 } });
      for (let i = 0; i < 7; i++) detectors.noteDownload(company.a.tenantId, company.a.userId, "203.0.113.10");
      detectors.notePermissionChange(company.a.tenantId, company.a.userId, "user-bob", "member", "admin");
      await alerts.idle();
      assert.deepEqual(hitsTo("/a").map((hit) => hit.headers["x-strongroom-event"]).sort(), ["mass_download", "permission_escalation"]);
    });

    it("a failing receiver is retried with growing delays, then given up, and every attempt is recorded", async () => {
      const path = `/v1/tenants/${company.b.tenantId}/alert-channels`;
      const failing = await call("POST", path, company.b.admin, { kind: "webhook", url: hook("/fail"), eventTypes: ["credential_stuffing"] });
      const gone = await call("POST", path, company.b.admin, { kind: "webhook", url: hook("/gone"), eventTypes: ["credential_stuffing"] });
      secrets.push(failing.json().secret, gone.json().secret);
      await alerts.idle();
      receiver.hits.length = 0;
      events.emit({ type: "credential_stuffing", tenantId: company.b.tenantId, ip: "198.51.100.5", details: { accounts: 40 } });
      await alerts.idle();

      const attempts = hitsTo("/fail");
      assert.equal(attempts.length, retry.maxAttempts, "bounded: exactly maxAttempts tries");
      for (const hit of attempts) verifySignature(hit, failing.json().secret);
      assert.equal(new Set(attempts.map((hit) => hit.headers["x-strongroom-delivery"])).size, 1, "one event, retried");
      const gaps = attempts.slice(1).map((hit, index) => hit.at - attempts[index]!.at);
      assert.ok(gaps[0]! >= retry.baseDelayMs * 0.9, `first retry waits about ${retry.baseDelayMs} ms (${gaps[0]})`);
      assert.ok(gaps[1]! >= retry.baseDelayMs * 2 * 0.9, `second retry waits about twice as long (${gaps[1]})`);
      assert.equal(hitsTo("/gone").length, 1, "a 410 is not retried");

      const recorded = await db().selectFrom("alert_deliveries").selectAll()
        .where("tenant_id", "=", company.b.tenantId).where("channel_id", "=", failing.json().id).orderBy("attempt").execute();
      assert.deepEqual(recorded.map((row) => [row.attempt, row.outcome, row.http_status, row.event_type]), [
        [1, "retrying", 500, "credential_stuffing"], [2, "retrying", 500, "credential_stuffing"], [3, "failed", 500, "credential_stuffing"],
      ]);
      const listed = (await call("GET", path, company.b.admin)).json().channels;
      const byId = new Map(listed.map((row: { id: string; lastDelivery: unknown }) => [row.id, row.lastDelivery]));
      assert.deepEqual(byId.get(failing.json().id), { at: recorded[2]!.at, outcome: "failed", httpStatus: 500, error: "the receiver answered HTTP 500" });
      assert.equal((byId.get(gone.json().id) as { outcome: string }).outcome, "failed");
      assert.equal((byId.get(channel.b.id) as { outcome: string } | null)?.outcome ?? "delivered", "delivered");
      assert.ok(logLines.some((line) => line.includes("alert_delivery_failed")), "failures are logged");
      for (const id of [failing.json().id, gone.json().id]) await call("DELETE", `${path}/${id}`, company.b.admin);
    });

    it("the test route sends one signed test alert and reports the outcome", async () => {
      await alerts.idle();
      receiver.hits.length = 0;
      const ok = await call("POST", `/v1/tenants/${company.a.tenantId}/alert-channels/${channel.a.id}/test`, company.a.admin);
      assert.deepEqual(ok.json(), { delivered: true, httpStatus: 204, error: null });
      assert.equal(hitsTo("/a")[0]!.headers["x-strongroom-event"], "test");
      verifySignature(hitsTo("/a")[0]!, channel.a.secret);
      assert.equal(hitsTo("/operator").length, 0, "a company's test does not page the operator");
      const unknown = await call("POST", `/v1/tenants/${company.a.tenantId}/alert-channels/no-such-channel/test`, company.a.admin);
      assert.deepEqual([unknown.status, unknown.json().error], [404, "not_found"]);
    });

    it("e-mail channels deliver through the real SMTP server, to the company and the operator", async () => {
      const created = await call("POST", `/v1/tenants/${company.a.tenantId}/alert-channels`, company.a.admin, { kind: "email", email: "Security@A.example" });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.json().email, "security@a.example");
      const since = mail.received.length;
      events.emit({ type: "failed_login_burst", tenantId: company.a.tenantId, ip: "203.0.113.77", userId: company.a.userId, details: { failures: 25 } });
      await alerts.idle();
      const toCompany = await mail.next("security@a.example", since);
      assert.match(toCompany.text, /Subject: \[Strongroom\] Burst of failed sign-ins/);
      assert.match(toCompany.text, /203\.0\.113\.77/);
      assert.match(toCompany.text, new RegExp(company.a.tenantId));
      const toOperator = await mail.next(operatorEmail, since);
      assert.match(toOperator.text, /failed_login_burst/);
      for (const secret of secrets) assert.ok(!toCompany.raw.includes(secret) && !toOperator.raw.includes(secret));

      const test = await call("POST", `/v1/tenants/${company.a.tenantId}/alert-channels/${created.json().id}/test`, company.a.admin);
      assert.deepEqual(test.json(), { delivered: true, httpStatus: null, error: null });
      assert.match((await mail.next("security@a.example", since + 2)).text, /Test alert/);
      await call("DELETE", `/v1/tenants/${company.a.tenantId}/alert-channels/${created.json().id}`, company.a.admin);
    });

    it("a deleted channel receives nothing more and its secret is wiped", async () => {
      const created = await call("POST", `/v1/tenants/${company.b.tenantId}/alert-channels`, company.b.admin, { kind: "webhook", url: hook("/b-old") });
      secrets.push(created.json().secret);
      assert.equal((await call("DELETE", `/v1/tenants/${company.b.tenantId}/alert-channels/${created.json().id}`, company.b.admin)).status, 200);
      await alerts.idle();
      receiver.hits.length = 0;
      events.emit({ type: "ban", tenantId: company.b.tenantId, ip: "198.51.100.6", details: {} });
      await alerts.idle();
      assert.equal(hitsTo("/b-old").length, 0);
      assert.equal(hitsTo("/b").length, 1);
      const row = await db().selectFrom("alert_channels").select(["secret_ciphertext", "deleted_at"]).where("id", "=", created.json().id).executeTakeFirstOrThrow();
      assert.equal(row.secret_ciphertext, null);
      assert.ok(row.deleted_at);
    });

    it("/metrics answers the operator addresses only, in the text format, and its counters move", async () => {
      const refused = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "198.51.100.20" });
      assert.deepEqual([refused.statusCode, refused.json().error], [403, "ip_not_allowed"]);
      const allowed = await app.inject({ method: "GET", url: "/metrics", remoteAddress: "127.0.0.1" });
      assert.equal(allowed.statusCode, 200);
      assert.match(String(allowed.headers["content-type"]), /^text\/plain; version=0\.0\.4/);

      const before = await scrape();
      const listSeries = `strongroom_http_requests_total{method="GET",route="/v1/tenants/:tenantId/alert-channels",status="200"}`;
      const failedLogin = `strongroom_logins_total{step="password",outcome="failure"}`;
      const bans = "strongroom_bans_total";
      const auditFailures = "strongroom_audit_write_failures_total";
      const stuffing = `strongroom_security_events_total{type="credential_stuffing"}`;
      await call("GET", `/v1/tenants/${company.a.tenantId}/alert-channels`, company.a.admin);
      const login = await httpsRequest(`${base}/v1/auth/login`, { ca, method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "alice@a.example", password: "not the right password at all" }) });
      assert.equal(login.status, 401);
      events.emit({ type: "ban", tenantId: null, ip: "198.51.100.30", details: {} });
      events.emit({ type: "audit_write_failure", tenantId: null, details: { stage: "begin" } });
      events.emit({ type: "credential_stuffing", tenantId: null, details: {} });
      await alerts.idle();
      const afterText = await scrape();
      assert.equal(sample(afterText, listSeries), sample(before, listSeries) + 1);
      assert.equal(sample(afterText, failedLogin), sample(before, failedLogin) + 1);
      assert.equal(sample(afterText, bans), sample(before, bans) + 1);
      assert.equal(sample(afterText, auditFailures), sample(before, auditFailures) + 1);
      assert.equal(sample(afterText, stuffing), sample(before, stuffing) + 1);
      assert.ok(sample(afterText, `strongroom_http_request_duration_seconds_count{method="GET",route="/v1/tenants/:tenantId/alert-channels"}`) >= 1);
      assert.ok(sample(afterText, `strongroom_alert_deliveries_total{kind="webhook",outcome="retrying"}`) >= 2);
      assert.ok(sample(afterText, `strongroom_alert_deliveries_total{kind="webhook",outcome="failed"}`) >= 2);
      assert.ok(sample(afterText, `strongroom_alert_deliveries_total{kind="email",outcome="delivered"}`) >= 2);
      assert.equal(sample(afterText, "strongroom_sealed"), 0);
      for (const secret of secrets) assert.ok(!afterText.includes(secret));
      assert.ok(!afterText.includes(company.a.tenantId), "no company ids in metric labels");
    });

    it("stores neither the webhook secrets nor the targets in plaintext, and logs no secret", async () => {
      await alerts.idle();
      const stored = kind === "sqlite"
        ? (await Promise.all((await readdir(test.dataDir!)).map((name) => readFile(join(test.dataDir!, name))))).map((bytes) => bytes.toString("latin1")).join("")
        : (await promisify(execFile)("pg_dump", ["--data-only", (test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      assert.ok(stored.includes(channel.a.id), "the database dump is searchable");
      for (const secret of secrets) {
        assert.ok(!stored.includes(secret), `a secret is stored in plaintext (${secret.length} chars)`);
        assert.ok(!stored.includes(Buffer.from(secret).toString("base64")), "a secret is stored base64-encoded");
      }
      assert.ok(!stored.includes(hook("/a")), "a webhook URL is stored in plaintext");
      assert.ok(!stored.includes("security@a.example"), "an alert e-mail address is stored in plaintext");
      const logs = logLines.join("");
      for (const secret of secrets) assert.ok(!logs.includes(secret), `a secret reached the log (${secret.length} chars)`);
      assert.ok(!logs.includes(hook("/fail")), "webhook URLs (which may carry tokens) are not logged");
    });

    it("reports the seal state, and company alerts are not lost silently while sealed", async () => {
      await vault.seal();
      assert.match(await metrics.registry.getSingleMetricAsString("strongroom_sealed"), /^strongroom_sealed 1$/m);
      receiver.hits.length = 0;
      events.emit({ type: "seal_failure", tenantId: company.a.tenantId, details: { reason: "sealed" } });
      await alerts.idle();
      assert.deepEqual(hitsTo("/operator").map((hit) => hit.headers["x-strongroom-event"]), ["seal_failure"], "the operator still hears of it");
      assert.ok(logLines.some((line) => line.includes("alert_dispatch_failed")), "the undeliverable company alert is logged");
    });
  });
}
