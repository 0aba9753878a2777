// Operator accounts end to end over HTTPS, on SQLite and PostgreSQL: the bootstrap rule of a fresh
// installation, `strongroom operator user add|list|disable` on the same database, sign-in with password
// and TOTP (one answer for every failure, a code works once), seal and rotate behind the session, the
// CSRF token and the operator CIDRs, and no route from an operator session to any company's content.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { URI } from "otpauth";
import { runOperatorUserCommand, stdinLineReader } from "../../src/cli/operator-user-commands.ts";
import type { Output } from "../../src/cli/cli-io.ts";
import { loadConfig, type Config } from "../../src/config/config.ts";
import { isAppError } from "../../src/errors/app-error.ts";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { signUp } from "../../src/modules/accounts/sign-up.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createOutboxSender } from "../../src/modules/messages/outbox-sender.ts";
import { totpCodeAt } from "../../src/modules/operators/operator-totp.ts";
import { devShareFileName } from "../../src/runtime/dev-unseal.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import { httpsRequest, type TestResponse } from "../support/https-request.ts";
import { WebClient } from "../support/web-client.ts";

const adaPassword = "ada runs the night shift with care";
const gracePassword = "grace keeps the spare keys elsewhere";
const operatorCookie = "__Host-sr_operator";

type Captured = Output & { lines: string[] };
const capture = (): Captured => {
  const lines: string[] = [];
  return { lines, out: (text) => lines.push(text), err: (text) => lines.push(`ERR ${text}`) };
};
const linesOf = (text: string) => stdinLineReader(Readable.from([text]));

const rejectsWith = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (error) => {
    assert.ok(isAppError(error), String(error));
    assert.equal(error.code, code);
    return true;
  });

// A request body that passes a route's JSON schema, so the answer shows the access check, not validation.
function sampleOf(schema: any): unknown {
  if (!schema || typeof schema !== "object") return {};
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "object": {
      const value: Record<string, unknown> = {};
      for (const name of schema.required ?? []) value[name] = sampleOf(schema.properties?.[name]);
      return value;
    }
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => sampleOf(schema.items));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    case "string":
      if (typeof schema.pattern === "string" && schema.pattern.includes("@")) return "someone@example.com";
      return "a".repeat(Math.max(schema.minLength ?? 1, 1));
    default:
      return {};
  }
}

for (const kind of databaseKinds) {
  describe(`operator accounts (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let dir: string;
    let app: FastifyInstance;
    let base: string;
    let ca: Buffer;
    let share: string;
    let config: Config;
    let identity: IdentityDeps;
    let adaSecret: string;
    let graceSecret: string;
    let ada: WebClient;
    const logLines: string[] = [];
    const secrets: string[] = [adaPassword, gracePassword];
    // Six digits can occur by chance in a log line (ports, timings): codes are looked for as JSON values.
    const codes: string[] = [];

    const operatorClient = () => new WebClient(base, ca);
    const post = (path: string, body: unknown = {}, headers: Record<string, string> = {}) =>
      httpsRequest(`${base}${path}`, { ca, method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    // The test plays the authenticator app; clearing the spent step lets one operator sign in twice within 30 s.
    const freshCode = async (username: string, secret: string) => {
      await test.database.db.updateTable("operators").set({ totp_last_step: null }).where("username", "=", username).execute();
      const code = totpCodeAt(secret, Date.now());
      codes.push(code);
      return code;
    };
    const signIn = async (client: WebClient, username: string, password: string, secret: string): Promise<TestResponse> => {
      const response = await client.post("/v1/sys/operator/login", { username, password, code: await freshCode(username, secret) });
      assert.equal(response.status, 200, response.text);
      secrets.push(client.cookies.get(operatorCookie)!);
      return response;
    };

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-operators-"));
      const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
      ca = await readFile(certificate.certFile);
      const vault = createVault(createVaultRepository(test.database.db));
      share = (await vault.initialize(1, 1)).shares[0]!;
      await vault.submitShare(share);
      secrets.push(share);
      identity = createIdentityDeps({ db: test.database.db, vault, messages: createOutboxSender({ db: test.database.db, vault }), publicUrl: "https://localhost" });
      const destination = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
      app = await buildApp({
        vault,
        logger: createLogger({ level: "debug", destination }),
        certificate,
        bodyLimitBytes: 64 * 1024,
        trustedProxies: [],
        operatorCidrs: ["127.0.0.1/32", "::1/128"],
        version: "test",
        identity,
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `https://localhost:${(app.server.address() as { port: number }).port}`;
      // The CLI opens the same database the server uses, as it would on the server's host.
      const database = test.config.kind === "sqlite"
        ? { "database.kind": "sqlite", "database.path": test.config.path }
        : { "database.kind": "postgres", "database.url": test.config.url };
      config = loadConfig({ env: {}, overrides: { dataDir: dir, ...database } });
    });

    after(async () => {
      await app?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("a fresh installation (no operator account) keeps seal and rotate open to operator addresses: the bootstrap rule", async () => {
      const rotated = await post("/v1/sys/rotate");
      assert.deepEqual([rotated.status, rotated.json().term], [200, 2]);
      const sealed = await post("/v1/sys/seal");
      assert.deepEqual([sealed.status, sealed.json().sealed], [200, true]);
      assert.equal((await post("/v1/sys/unseal", { share })).json().sealed, false);
      const login = await post("/v1/sys/operator/login", { username: "ada", password: adaPassword, code: "123456" });
      assert.deepEqual([login.status, login.json().error], [401, "invalid_credentials"]);
      const me = await httpsRequest(`${base}/v1/sys/operators/me`, { ca });
      assert.deepEqual([me.status, me.json().error], [401, "session_required"]);
      assert.ok(logLines.some((line) => line.includes('"event":"operator_bootstrap_access"')));
    });

    it("`operator user add` checks the password, unseals with shares from stdin or the dev share file, and prints the TOTP URI once", async () => {
      await rejectsWith(runOperatorUserCommand("add", { username: "ada" }, config, capture(), linesOf("too short\n")), "password_too_weak");
      await assert.rejects(runOperatorUserCommand("add", {}, config, capture(), linesOf(`${adaPassword}\n`)), /missing --username/);
      await rejectsWith(runOperatorUserCommand("add", { username: "ada" }, config, capture(), linesOf(`${adaPassword}\nsrs1-not-a-share\n`)), "share_malformed");
      await assert.rejects(runOperatorUserCommand("add", { username: "ada" }, config, capture(), linesOf(`${adaPassword}\n`)), /expected 1 unseal share/);
      assert.equal((await test.database.db.selectFrom("operators").select("id").execute()).length, 0, "nothing half-made");

      const io = capture();
      assert.equal(await runOperatorUserCommand("add", { username: "Ada" }, config, io, linesOf(`${adaPassword}\n${share}\n`)), 0);
      const uris = io.lines.filter((line) => line.startsWith("otpauth://totp/"));
      assert.equal(uris.length, 1, io.lines.join("\n"));
      adaSecret = URI.parse(uris[0]!).secret.base32;
      secrets.push(adaSecret);
      assert.ok(io.lines.some((line) => line.includes("Operator ada created")));

      const devShare = join(dir, devShareFileName);
      await writeFile(devShare, `${share}\n`, { mode: 0o600 });
      try {
        const json = capture();
        assert.equal(await runOperatorUserCommand("add", { username: "grace", json: true }, config, json, linesOf(`${gracePassword}\n`)), 0);
        const printed = JSON.parse(json.lines[0]!) as { operator: { username: string }; otpauthUri: string };
        assert.equal(printed.operator.username, "grace");
        graceSecret = URI.parse(printed.otpauthUri).secret.base32;
        secrets.push(graceSecret);
        await rejectsWith(runOperatorUserCommand("add", { username: "GRACE" }, config, capture(), linesOf(`${gracePassword}\n`)), "conflict");
      } finally {
        await unlink(devShare);
      }

      const listed = capture();
      assert.equal(await runOperatorUserCommand("list", { json: true }, config, listed), 0);
      const { operators } = JSON.parse(listed.lines[0]!) as { operators: { username: string; disabledAt: string | null }[] };
      assert.deepEqual(operators.map((operator) => [operator.username, operator.disabledAt]), [["ada", null], ["grace", null]]);
      assert.ok(!listed.lines.join("").includes("otpauth"), "the URI is never shown again");
      await assert.rejects(runOperatorUserCommand("remove", {}, config, capture()), /unknown operator user command remove/);
    });

    it("once an operator account exists, seal and rotate from an operator address without a session are refused", async () => {
      for (const path of ["/v1/sys/seal", "/v1/sys/rotate"]) {
        const response = await post(path);
        assert.deepEqual([response.status, response.json().error], [401, "session_required"], path);
      }
      assert.equal((await httpsRequest(`${base}/v1/sys/health`, { ca })).status, 200, "still unsealed");
    });

    it("sign-in takes username, password and the current code; every failure gets one answer; a code works once", async () => {
      const code = totpCodeAt(adaSecret, Date.now());
      const wrongCode = code === "000000" ? "111111" : "000000";
      const failures = [
        { username: "ada", password: "not ada's password at all", code },
        { username: "nobody", password: adaPassword, code },
        { username: "ada", password: adaPassword, code: wrongCode },
        { username: "ada", password: adaPassword, code: totpCodeAt(adaSecret, Date.now() - 5 * 60_000) },
        { username: "ada", password: gracePassword, code: totpCodeAt(graceSecret, Date.now()) },
      ];
      const answers = await Promise.all(failures.map((body) => post("/v1/sys/operator/login", body)));
      for (const answer of answers) {
        assert.equal(answer.status, 401);
        assert.deepEqual(answer.json(), answers[0]!.json());
        assert.equal(answer.headers["set-cookie"], undefined);
      }
      assert.equal(answers[0]!.json().error, "invalid_credentials");

      for (const body of [{ username: "ada", password: adaPassword }, { username: "ada", password: adaPassword, code, extra: 1 }, { username: "a".repeat(65), password: adaPassword, code }]) {
        assert.equal((await post("/v1/sys/operator/login", body)).json().error, "validation_failed");
      }

      ada = operatorClient();
      const login = await signIn(ada, "ada", adaPassword, adaSecret);
      const cookie = (login.headers["set-cookie"] ?? []).find((line) => line.startsWith(`${operatorCookie}=`));
      assert.ok(cookie, "the operator cookie is set");
      assert.match(cookie, /; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
      assert.ok(!(login.headers["set-cookie"] ?? []).some((line) => line.startsWith("__Host-sr_session=")), "no company session cookie");
      const body = login.json();
      assert.equal(body.operator.username, "ada");
      assert.equal(Date.parse(body.session.absoluteExpiresAt) - Date.parse(body.session.createdAt), 4 * 3600_000);
      assert.equal(Date.parse(body.session.idleExpiresAt) - Date.parse(body.session.createdAt), 30 * 60_000);

      const spent = await test.database.db.selectFrom("operators").select("totp_last_step").where("username", "=", "ada").executeTakeFirstOrThrow();
      const replayCode = totpCodeAt(adaSecret, spent.totp_last_step! * 30_000);
      const replay = await post("/v1/sys/operator/login", { username: "ada", password: adaPassword, code: replayCode });
      assert.deepEqual([replay.status, replay.json()], [401, answers[0]!.json()]);

      const me = await ada.get("/v1/sys/operators/me");
      assert.equal(me.status, 200, me.text);
      assert.equal(me.json().operator.username, "ada");
    });

    it("seal and rotate with a session need its CSRF token; a sealed vault admits no operator until unsealed", async () => {
      const noCsrf = await ada.request("POST", "/v1/sys/rotate", undefined, { "x-csrf-token": "" });
      assert.deepEqual([noCsrf.status, noCsrf.json().error], [403, "csrf_failed"]);
      const rotated = await ada.request("POST", "/v1/sys/rotate");
      assert.deepEqual([rotated.status, rotated.json().term], [200, 3]);
      assert.ok(logLines.some((line) => line.includes('"event":"keyring_rotated"') && line.includes('"operatorId"')));

      const sealed = await ada.request("POST", "/v1/sys/seal");
      assert.deepEqual([sealed.status, sealed.json().sealed], [200, true]);
      const whileSealed = await ada.get("/v1/sys/operators/me");
      assert.deepEqual([whileSealed.status, whileSealed.json().error], [503, "sealed"]);
      assert.equal((await post("/v1/sys/seal")).json().error, "session_required", "no bootstrap while sealed: accounts exist");
      assert.equal((await post("/v1/sys/unseal", { share })).json().sealed, false);
      assert.equal((await ada.get("/v1/sys/operators/me")).status, 200, "the session outlives a seal and unseal");
    });

    it("from outside the operator CIDRs no operator route answers, even with a valid session", async () => {
      const cookie = `${operatorCookie}=${ada.cookies.get(operatorCookie)}`;
      const outsider = { remoteAddress: "192.0.2.10" };
      const requests = [
        { method: "POST" as const, url: "/v1/sys/operator/login", payload: { username: "ada", password: adaPassword, code: "123456" } },
        { method: "GET" as const, url: "/v1/sys/operators/me", headers: { cookie } },
        { method: "POST" as const, url: "/v1/sys/rotate", headers: { cookie, "x-csrf-token": ada.csrfToken! } },
        { method: "POST" as const, url: "/v1/sys/seal", headers: { cookie, "x-csrf-token": ada.csrfToken! } },
        { method: "POST" as const, url: "/v1/sys/operator/logout", headers: { cookie, "x-csrf-token": ada.csrfToken! } },
      ];
      for (const request of requests) {
        const response = await app.inject({ ...request, ...outsider });
        assert.deepEqual([response.statusCode, response.json().error], [403, "ip_not_allowed"], request.url);
      }
      assert.equal((await ada.get("/v1/sys/operators/me")).status, 200);
    });

    it("an operator session opens no company content: every /v1/tenants/* and /v1/auth/session* route answers 401 or 404", async () => {
      await signUp(identity, { companyName: "Company A", name: "Alice", email: "alice@a.example", password: "alice's long company password" });
      const owner = await test.database.db.selectFrom("memberships").selectAll().executeTakeFirstOrThrow();
      const tenantId = owner.tenant_id;
      const openapi = (await httpsRequest(`${base}/v1/openapi.json`, { ca })).json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>> };
      const values: Record<string, string> = { tenantId, userId: owner.user_id };
      const checked: string[] = [];
      const opened: string[] = [];
      for (const [template, operations] of Object.entries(openapi.paths)) {
        if (!template.startsWith("/v1/tenants/") && !template.startsWith("/v1/auth/session")) continue;
        const path = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_match, name: string) => values[name] ?? "0123456789abcdef0123456789abcdef");
        for (const [method, operation] of Object.entries(operations)) {
          const schema = operation.requestBody?.content["application/json"]?.schema;
          const headers: Record<string, string> = { cookie: `${operatorCookie}=${ada.cookies.get(operatorCookie)}`, "x-csrf-token": ada.csrfToken! };
          if (schema) headers["content-type"] = "application/json";
          const response = await httpsRequest(`${base}${path}`, { ca, method: method.toUpperCase(), headers, body: schema ? JSON.stringify(sampleOf(schema)) : undefined });
          checked.push(`${method.toUpperCase()} ${template}`);
          if (response.status !== 401 && response.status !== 404) opened.push(`${method.toUpperCase()} ${template} → ${response.status} ${response.text}`);
        }
      }
      assert.deepEqual(opened, []);
      assert.ok(checked.length >= 15, `only ${checked.length} routes checked: ${checked.join(", ")}`);
      assert.ok(checked.includes("GET /v1/auth/session") && checked.includes("GET /v1/tenants/{tenantId}"));

      // Each kind of session works only under its own cookie and on its own routes.
      const operatorToken = ada.cookies.get(operatorCookie)!;
      const asUserCookie = await httpsRequest(`${base}/v1/tenants/${tenantId}`, { ca, headers: { cookie: `__Host-sr_session=${operatorToken}` } });
      assert.deepEqual([asUserCookie.status, asUserCookie.json().error], [401, "session_required"]);
      assert.equal((await httpsRequest(`${base}/v1/auth/session`, { ca, headers: { cookie: `__Host-sr_session=${operatorToken}` } })).status, 401);
      const { token: userToken } = await identity.sessions.create({ userId: owner.user_id, tenantId, deviceId: null, secondFactor: null, ip: "127.0.0.1", userAgent: "test" });
      secrets.push(userToken);
      assert.equal((await httpsRequest(`${base}/v1/tenants/${tenantId}`, { ca, headers: { cookie: `__Host-sr_session=${userToken}` } })).status, 200, "the user session itself works");
      const userAsOperator = await httpsRequest(`${base}/v1/sys/operators/me`, { ca, headers: { cookie: `${operatorCookie}=${userToken}` } });
      assert.deepEqual([userAsOperator.status, userAsOperator.json().error], [401, "session_required"]);
      const userRotates = await post("/v1/sys/rotate", {}, { cookie: `__Host-sr_session=${userToken}` });
      assert.equal(userRotates.status, 401);
    });

    it("sign-out ends the session; `operator user disable` ends an operator's sessions at once and does not reopen the bootstrap", async () => {
      const grace = operatorClient();
      await signIn(grace, "grace", gracePassword, graceSecret);
      assert.equal((await grace.get("/v1/sys/operators/me")).status, 200);
      const io = capture();
      assert.equal(await runOperatorUserCommand("disable", { username: "grace" }, config, io), 0);
      assert.match(io.lines.join("\n"), /grace disabled/);
      assert.equal((await grace.get("/v1/sys/operators/me")).status, 401);
      const again = await post("/v1/sys/operator/login", { username: "grace", password: gracePassword, code: await freshCode("grace", graceSecret) });
      assert.deepEqual([again.status, again.json().error], [401, "invalid_credentials"]);
      await rejectsWith(runOperatorUserCommand("disable", { username: "nobody" }, config, capture()), "not_found");

      const adaToken = ada.cookies.get(operatorCookie)!;
      const signedOut = await ada.request("POST", "/v1/sys/operator/logout");
      assert.equal(signedOut.status, 200, signedOut.text);
      assert.ok((signedOut.headers["set-cookie"] ?? []).some((line) => line.startsWith(`${operatorCookie}=;`) && line.includes("Max-Age=0")));
      const stale = await httpsRequest(`${base}/v1/sys/operators/me`, { ca, headers: { cookie: `${operatorCookie}=${adaToken}` } });
      assert.equal(stale.status, 401);
      assert.equal(await runOperatorUserCommand("disable", { username: "ada" }, config, capture()), 0);
      const noBootstrap = await post("/v1/sys/rotate");
      assert.deepEqual([noBootstrap.status, noBootstrap.json().error], [401, "session_required"], "disabling every operator does not reopen address-only access");
    });

    it("no password, TOTP secret, code, share or session token reaches the log or the operator tables in plaintext", async () => {
      const log = logLines.join("");
      const rows = JSON.stringify(await test.database.db.selectFrom("operators").selectAll().execute(), (_key, value) =>
        value && value.type === "Buffer" ? Buffer.from(value.data).toString("latin1") : value);
      const sessions = JSON.stringify(await test.database.db.selectFrom("operator_sessions").selectAll().execute());
      assert.ok(secrets.length >= 8 && codes.length >= 3);
      for (const secret of secrets) {
        assert.ok(!log.includes(secret), `a secret reached the log: ${secret.slice(0, 4)}…`);
        assert.ok(!rows.includes(secret), "a secret is stored in plaintext in operators");
        assert.ok(!sessions.includes(secret), "a secret is stored in plaintext in operator_sessions");
      }
      for (const code of codes) assert.ok(!log.includes(`"${code}"`), "a TOTP code reached the log");
    });
  });
}
