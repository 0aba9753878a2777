// Identity and access end to end over HTTPS, on SQLite and PostgreSQL, with mail delivered to a real
// SMTP server: sign-up, new-device codes, sessions, invitations, roles, password reset, API keys,
// other companies' ids, and no secret in logs, the database or error bodies.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import { httpsRequest } from "../support/https-request.ts";
import { codeIn, startMailServer, tokenIn, type MailServer } from "../support/mail-server.ts";
import { WebClient } from "../support/web-client.ts";

const alice = { email: "alice@a.example", password: "correct horse battery staple A1", name: "Alice" };
const bob = { email: "bob@a.example", password: "bob's long and unusual passphrase", name: "Bob" };
const carol = { email: "carol@b.example", password: "carol keeps company B safe 42", name: "Carol" };

for (const kind of databaseKinds) {
  describe(`identity and access (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let dir: string;
    let mail: MailServer;
    let app: FastifyInstance;
    let base: string;
    let ca: Buffer;
    const logLines: string[] = [];
    const secrets: string[] = [];
    const clients: WebClient[] = [];
    let tenantA: string;
    let tenantB: string;
    let bobId: string;
    let aliceBrowser: WebClient;

    const browser = () => {
      const client = new WebClient(base, ca);
      clients.push(client);
      return client;
    };

    async function signUpAndVerify(person: typeof alice, company: string): Promise<void> {
      const since = mail.received.length;
      const signup = await browser().post("/v1/auth/signup", { companyName: company, ...person });
      assert.equal(signup.status, 202, signup.text);
      const token = tokenIn(await mail.next(person.email, since));
      secrets.push(token);
      const verified = await browser().post("/v1/auth/verify-email", { token });
      assert.equal(verified.status, 200, verified.text);
    }

    async function signInWithCode(client: WebClient, person: typeof alice): Promise<void> {
      const since = mail.received.length;
      const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
      assert.equal(login.status, 202, login.text);
      const code = codeIn(await mail.next(person.email, since));
      secrets.push(code, login.json().challengeToken);
      const verified = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code });
      assert.equal(verified.status, 200, verified.text);
      secrets.push(client.cookies.get("__Host-sr_session")!);
    }

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-identity-"));
      mail = await startMailServer();
      const certificate = await ensureSelfSignedCertificate(dir);
      ca = await readFile(certificate.certFile);
      const vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      const destination = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
      app = await buildApp({
        vault,
        logger: createLogger({ level: "debug", destination }),
        certificate,
        bodyLimitBytes: 64 * 1024,
        trustedProxies: [],
        operatorCidrs: ["127.0.0.1/32"],
        version: "test",
        identity: createIdentityDeps({
          db: test.database.db,
          vault,
          messages: createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "strongroom@test.example" }),
          publicUrl: "https://localhost",
        }),
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `https://localhost:${(app.server.address() as { port: number }).port}`;
      secrets.push(alice.password, bob.password, carol.password);
    });

    after(async () => {
      await app?.close();
      await mail?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("sign-up creates a company whose owner must confirm the e-mail before signing in", async () => {
      const since = mail.received.length;
      await browser().post("/v1/auth/signup", { companyName: "Company A", ...alice });
      const early = await browser().post("/v1/auth/login", { email: alice.email, password: alice.password });
      assert.deepEqual([early.status, early.json().error], [403, "email_unverified"]);
      const token = tokenIn(await mail.next(alice.email, since));
      secrets.push(token);
      assert.equal((await browser().post("/v1/auth/verify-email", { token })).status, 200);
      assert.equal((await browser().post("/v1/auth/verify-email", { token })).json().error, "link_invalid");
      await signUpAndVerify(carol, "Company B");
    });

    it("refuses weak passwords and does not reveal whether an e-mail has an account", async () => {
      const weak = await browser().post("/v1/auth/signup", { companyName: "X", name: "X", email: "x@x.example", password: "short" });
      assert.deepEqual([weak.status, weak.json().error], [400, "password_too_weak"]);
      const common = await browser().post("/v1/auth/signup", { companyName: "X", name: "X", email: "x@x.example", password: "password1234" });
      assert.equal(common.json().error, "password_too_weak");
      const again = await browser().post("/v1/auth/signup", { companyName: "Dup", name: "A", email: alice.email, password: "another long password 99" });
      assert.equal(again.status, 202);
      const wrong = await browser().post("/v1/auth/login", { email: alice.email, password: "not the password at all" });
      const unknown = await browser().post("/v1/auth/login", { email: "nobody@a.example", password: "not the password at all" });
      assert.deepEqual([wrong.status, wrong.json().error], [401, "invalid_credentials"]);
      assert.deepEqual(unknown.json(), wrong.json());
    });

    it("a sign-in from a new device gets no session until the code is entered", async () => {
      const client = browser();
      const since = mail.received.length;
      const login = await client.post("/v1/auth/login", { email: alice.email, password: alice.password });
      assert.equal(login.status, 202);
      assert.equal(login.json().status, "code_required");
      assert.equal(client.cookies.size, 0, "no cookie before the code");
      assert.equal((await client.get("/v1/auth/session")).status, 401);
      const code = codeIn(await mail.next(alice.email, since));
      secrets.push(code);
      const ok = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code });
      assert.equal(ok.status, 200);
      assert.ok(client.cookies.has("__Host-sr_session") && client.cookies.has("__Host-sr_device"));
      const cookieHeader = String(ok.headers["set-cookie"]);
      assert.match(cookieHeader, /__Host-sr_session=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax/);
      const notice = await mail.next(alice.email, since + 1);
      assert.match(notice.text, /New sign-in/);
      const session = await client.get("/v1/auth/session");
      assert.equal(session.json().user.email, alice.email);
      tenantA = session.json().tenants[0].id;
      aliceBrowser = client;
    });

    it("a known device signs in without a code", async () => {
      const since = mail.received.length;
      const again = new WebClient(base, ca);
      again.cookies.set("__Host-sr_device", aliceBrowser.cookies.get("__Host-sr_device")!);
      const login = await again.post("/v1/auth/login", { email: alice.email, password: alice.password });
      assert.deepEqual([login.status, login.json().status], [200, "signed_in"]);
      assert.equal(mail.received.length, since, "no code was sent");
      // The device cookie is tied to Alice: it does not spare Carol the code.
      const carolTry = new WebClient(base, ca);
      carolTry.cookies.set("__Host-sr_device", aliceBrowser.cookies.get("__Host-sr_device")!);
      assert.equal((await carolTry.post("/v1/auth/login", { email: carol.email, password: carol.password })).status, 202);
    });

    it("five wrong codes lock that code; the right one is refused after", async () => {
      const client = browser();
      const since = mail.received.length;
      const login = await client.post("/v1/auth/login", { email: alice.email, password: alice.password });
      const code = codeIn(await mail.next(alice.email, since));
      secrets.push(code);
      const wrongCode = code === "000000" ? "000001" : "000000";
      const answers: string[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        answers.push((await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: wrongCode })).json().error);
      }
      assert.deepEqual(answers, ["code_invalid", "code_invalid", "code_invalid", "code_invalid", "code_locked"]);
      const right = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code });
      assert.deepEqual([right.status, right.json().error], [429, "code_locked"]);
      assert.equal(client.cookies.size, 0);
    });

    it("writes with the session cookie need the CSRF token", async () => {
      const response = await aliceBrowser.request("POST", "/v1/auth/switch-tenant", { tenantId: tenantA }, { "x-csrf-token": "forged" });
      assert.deepEqual([response.status, response.json().error], [403, "csrf_failed"]);
      assert.equal((await aliceBrowser.post("/v1/auth/switch-tenant", { tenantId: tenantA })).status, 200);
    });

    it("an invitation adds a viewer once; the link cannot be reused", async () => {
      const since = mail.received.length;
      const invite = await aliceBrowser.post(`/v1/tenants/${tenantA}/invitations`, { email: bob.email, role: "viewer" });
      assert.equal(invite.status, 201, invite.text);
      const token = tokenIn(await mail.next(bob.email, since));
      secrets.push(token);
      const accepted = await browser().post("/v1/invitations/accept", { token, name: bob.name, password: bob.password });
      assert.equal(accepted.status, 200, accepted.text);
      const reused = await browser().post("/v1/invitations/accept", { token, name: "Mallory", password: "mallory wants in 12345" });
      assert.deepEqual([reused.status, reused.json().error], [400, "link_invalid"]);
      const members = (await aliceBrowser.get(`/v1/tenants/${tenantA}/members`)).json().members as { userId: string; email: string; role: string }[];
      const bobMember = members.find((member) => member.email === bob.email)!;
      assert.equal(bobMember.role, "viewer");
      bobId = bobMember.userId;
    });

    it("a viewer cannot take admin actions", async () => {
      const bobBrowser = browser();
      await signInWithCode(bobBrowser, bob);
      assert.equal((await bobBrowser.get(`/v1/tenants/${tenantA}`)).status, 200);
      const attempts = [
        bobBrowser.post(`/v1/tenants/${tenantA}/invitations`, { email: "eve@a.example", role: "admin" }),
        bobBrowser.post(`/v1/tenants/${tenantA}/api-keys`, { name: "k", scopes: ["admin"] }),
        bobBrowser.request("PATCH", `/v1/tenants/${tenantA}/members/${bobId}`, { role: "owner" }),
        bobBrowser.request("PUT", `/v1/tenants/${tenantA}/ip-allowlist`, { cidrs: [] }),
        bobBrowser.post(`/v1/tenants/${tenantA}/groups`, { name: "g" }),
        bobBrowser.get(`/v1/tenants/${tenantA}/members`),
        bobBrowser.get(`/v1/tenants/${tenantA}/api-keys`),
      ];
      for (const response of await Promise.all(attempts)) assert.deepEqual([response.status, response.json().error], [403, "forbidden"], response.text);
    });

    it("API keys: shown once, read scope cannot write, revocation works at once", async () => {
      const created = await aliceBrowser.post(`/v1/tenants/${tenantA}/api-keys`, { name: "reporting", scopes: ["read"] });
      assert.equal(created.status, 201);
      const key = created.json().key as string;
      secrets.push(key.split(":")[1]!);
      const basic = { authorization: `Basic ${Buffer.from(key).toString("base64")}` };
      const api = new WebClient(base, ca, basic);
      assert.equal((await api.get(`/v1/tenants/${tenantA}`)).status, 200);
      const write = await api.post(`/v1/tenants/${tenantA}/invitations`, { email: "eve@a.example", role: "member" });
      assert.deepEqual([write.status, write.json().error], [403, "insufficient_scope"]);
      const listed = (await aliceBrowser.get(`/v1/tenants/${tenantA}/api-keys`)).json().apiKeys as { id: string; lastUsedAt: string | null }[];
      assert.ok(listed[0]!.lastUsedAt, "last use is tracked");
      assert.ok(!JSON.stringify(listed).includes(key.split(":")[1]!), "the secret is never shown again");
      assert.equal((await aliceBrowser.request("DELETE", `/v1/tenants/${tenantA}/api-keys/${created.json().id}`)).status, 200);
      const afterRevoke = await api.get(`/v1/tenants/${tenantA}`);
      assert.deepEqual([afterRevoke.status, afterRevoke.json().error], [401, "api_key_invalid"]);
      const forged = new WebClient(base, ca, { authorization: `Basic ${Buffer.from(`${created.json().id}:wrong`).toString("base64")}` });
      assert.equal((await forged.get(`/v1/tenants/${tenantA}`)).status, 401);
    });

    it("company B gets 404 for every id of company A, by session and by API key", async () => {
      const carolBrowser = browser();
      await signInWithCode(carolBrowser, carol);
      tenantB = (await carolBrowser.get("/v1/auth/session")).json().tenants[0].id;
      const keyB = (await carolBrowser.post(`/v1/tenants/${tenantB}/api-keys`, { name: "b", scopes: ["admin"] })).json().key as string;
      secrets.push(keyB.split(":")[1]!);
      const apiB = new WebClient(base, ca, { authorization: `Basic ${Buffer.from(keyB).toString("base64")}` });
      const keyA = (await aliceBrowser.post(`/v1/tenants/${tenantA}/api-keys`, { name: "a", scopes: ["read"] })).json().id as string;
      const groupA = (await aliceBrowser.post(`/v1/tenants/${tenantA}/groups`, { name: "Legal" })).json().id as string;
      for (const client of [carolBrowser, apiB]) {
        const responses = await Promise.all([
          client.get(`/v1/tenants/${tenantA}`),
          client.get(`/v1/tenants/${tenantA}/members`),
          client.request("PATCH", `/v1/tenants/${tenantA}/members/${bobId}`, { role: "admin" }),
          client.post(`/v1/tenants/${tenantA}/members/${bobId}/suspend`),
          client.request("DELETE", `/v1/tenants/${tenantA}/members/${bobId}`),
          client.post(`/v1/tenants/${tenantA}/invitations`, { email: "x@b.example", role: "member" }),
          client.request("PUT", `/v1/tenants/${tenantA}/ip-allowlist`, { cidrs: ["10.0.0.0/8"] }),
          client.get(`/v1/tenants/${tenantA}/api-keys`),
          client.post(`/v1/tenants/${tenantA}/api-keys`, { name: "x", scopes: ["read"] }),
          client.request("DELETE", `/v1/tenants/${tenantA}/api-keys/${keyA}`),
          client.get(`/v1/tenants/${tenantA}/groups`),
          client.post(`/v1/tenants/${tenantA}/groups`, { name: "x" }),
          client.request("PUT", `/v1/tenants/${tenantA}/groups/${groupA}/members/${bobId}`),
        ]);
        for (const response of responses) assert.deepEqual([response.status, response.json().error], [404, "not_found"], response.text);
      }
      const switched = await carolBrowser.post("/v1/auth/switch-tenant", { tenantId: tenantA });
      assert.equal(switched.status, 404);
      // B's own ids still work for B, and A's member ids inside B's company are unknown there.
      assert.equal((await carolBrowser.get(`/v1/tenants/${tenantB}`)).status, 200);
      assert.equal((await carolBrowser.request("PATCH", `/v1/tenants/${tenantB}/members/${bobId}`, { role: "admin" })).status, 404);
    });

    it("an expired session is refused", async () => {
      const client = browser();
      await signInWithCode(client, bob);
      const sessionId = (await client.get("/v1/auth/session")).json().sessionId as string;
      await test.database.db.updateTable("sessions").set({ idle_expires_at: new Date(Date.now() - 1000).toISOString() }).where("id", "=", sessionId).execute();
      const refused = await client.get("/v1/auth/session");
      assert.deepEqual([refused.status, refused.json().error], [401, "session_expired"]);
    });

    it("users list and revoke their sessions", async () => {
      const list = await aliceBrowser.get("/v1/auth/sessions");
      const others = (list.json().sessions as { id: string; current: boolean }[]).filter((session) => !session.current);
      assert.ok(others.length >= 1);
      assert.equal((await aliceBrowser.request("DELETE", `/v1/auth/sessions/${others[0]!.id}`)).status, 200);
      assert.equal((await aliceBrowser.request("DELETE", `/v1/auth/sessions/${others[0]!.id}`)).status, 404);
    });

    it("password reset: single-use link, new password works, every session ends", async () => {
      const since = mail.received.length;
      const unknown = await browser().post("/v1/auth/password-reset", { email: "nobody@a.example" });
      const asked = await browser().post("/v1/auth/password-reset", { email: alice.email });
      assert.deepEqual([unknown.status, asked.status], [202, 202]);
      assert.deepEqual(unknown.json(), asked.json());
      const token = tokenIn(await mail.next(alice.email, since));
      secrets.push(token);
      const newPassword = "a brand new password for alice 7";
      secrets.push(newPassword);
      assert.equal((await browser().post("/v1/auth/password-reset/complete", { token, password: newPassword })).status, 200);
      const reused = await browser().post("/v1/auth/password-reset/complete", { token, password: "yet another password 8888" });
      assert.deepEqual([reused.status, reused.json().error], [400, "link_invalid"]);
      assert.equal((await aliceBrowser.get("/v1/auth/session")).status, 401, "the old session was revoked");
      const old = await browser().post("/v1/auth/login", { email: alice.email, password: alice.password });
      assert.equal(old.status, 401);
      const fresh = await browser().post("/v1/auth/login", { email: alice.email, password: newPassword });
      assert.equal(fresh.status, 202);
      secrets.push(fresh.json().challengeToken);
    });

    it("no password, code, token or API secret is in the log, the database or any response body", async () => {
      const log = logLines.join("");
      assert.ok(log.includes("request completed") || log.length > 1000, "the log was captured");
      const bodies = clients.flatMap((client) => client.bodies).join("\n");
      const stored = kind === "sqlite"
        ? (await Promise.all((await readdir(test.dataDir!)).map((name) => readFile(join(test.dataDir!, name))))).map((bytes) => bytes.toString("latin1")).join("")
        : (await promisify(execFile)("pg_dump", ["--data-only", (test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      assert.ok(stored.includes(tenantA), "the database dump is searchable");
      for (const secret of new Set(secrets)) {
        assert.ok(!log.includes(secret), `a secret reached the log (${secret.length} chars)`);
        assert.ok(!stored.includes(secret), `a secret is stored in plaintext (${secret.length} chars)`);
      }
      for (const secret of [alice.password, bob.password, carol.password]) assert.ok(!bodies.includes(secret), "a password was echoed in a response");
      for (const person of [alice, bob, carol]) assert.ok(!stored.includes(person.email), "an e-mail address is stored in plaintext");
    });

    it("the OpenAPI description covers every route", async () => {
      const document = (await httpsRequest(`${base}/v1/openapi.json`, { ca })).json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
      assert.equal(document.openapi, "3.1.0");
      const expected = [
        "post /v1/auth/signup", "post /v1/auth/verify-email", "post /v1/auth/login", "post /v1/auth/login/code", "post /v1/auth/logout",
        "get /v1/auth/session", "post /v1/auth/switch-tenant", "get /v1/auth/sessions", "delete /v1/auth/sessions/{sessionId}",
        "post /v1/auth/password-reset", "post /v1/auth/password-reset/complete", "get /v1/tenants/{tenantId}", "get /v1/tenants/{tenantId}/members",
        "patch /v1/tenants/{tenantId}/members/{userId}", "post /v1/tenants/{tenantId}/members/{userId}/suspend",
        "post /v1/tenants/{tenantId}/members/{userId}/reactivate", "delete /v1/tenants/{tenantId}/members/{userId}",
        "post /v1/tenants/{tenantId}/invitations", "post /v1/invitations/accept", "put /v1/tenants/{tenantId}/ip-allowlist",
        "get /v1/tenants/{tenantId}/api-keys", "post /v1/tenants/{tenantId}/api-keys", "delete /v1/tenants/{tenantId}/api-keys/{keyId}",
        "get /v1/tenants/{tenantId}/groups", "post /v1/tenants/{tenantId}/groups", "put /v1/tenants/{tenantId}/groups/{groupId}/members/{userId}",
        "get /v1/sys/health", "post /v1/sys/unseal", "post /v1/sys/seal", "post /v1/sys/rotate",
      ];
      const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
      for (const route of expected) assert.ok(documented.includes(route), `${route} is documented`);
      assert.equal(documented.length, new Set(documented).size);
    });

    it("health still answers without a session", async () => {
      assert.equal((await httpsRequest(`${base}/v1/sys/health`, { ca })).status, 200);
    });
  });
}
