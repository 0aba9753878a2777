// Stronger second factors end to end over HTTPS, on SQLite and PostgreSQL, with mail delivered to a
// real SMTP server and passkeys answered by a software authenticator (real P-256 signatures checked by
// the server): TOTP enrolment and sign-in, replay and lock-out, recovery codes, passkey registration and
// sign-in with every way an assertion can be wrong, the e-mailed code as fallback, a company's rule that
// its admins use a strong factor, and no secret, code or challenge in the log or the database.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { Secret, TOTP } from "otpauth";
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
import { createSoftwareAuthenticator, type SoftwareAuthenticator } from "../support/software-authenticator.ts";
import { WebClient } from "../support/web-client.ts";

const alice = { email: "alice@a.example", password: "correct horse battery staple A1", name: "Alice" };
const bob = { email: "bob@a.example", password: "bob's long and unusual passphrase", name: "Bob" };
const carol = { email: "carol@b.example", password: "carol keeps company B safe 42", name: "Carol" };
const publicUrl = "https://localhost";

// TOTP codes as an authenticator app computes them, never reusing a time step.
function totpClock(secretBase32: string) {
  const secret = Secret.fromBase32(secretBase32);
  let lastStep = -1;
  const currentStep = () => TOTP.counter({ period: 30 });
  const codeAt = (step: number) => TOTP.generate({ secret, period: 30, timestamp: step * 30_000 });
  return {
    codeAt,
    currentStep,
    // The next code the server has not seen: now, or one step ahead (inside the ±1 window).
    next(): string {
      const step = Math.max(currentStep(), lastStep + 1);
      assert.ok(step <= currentStep() + 1, "the test used more TOTP steps than time allows");
      lastStep = step;
      return codeAt(step);
    },
    // A well-formed code that is valid for none of the accepted steps.
    wrong(): string {
      const valid = new Set([-1, 0, 1].map((delta) => codeAt(currentStep() + delta)));
      for (let guess = 0; ; guess++) {
        const code = String(guess).padStart(6, "0");
        if (!valid.has(code)) return code;
      }
    },
  };
}

for (const kind of databaseKinds) {
  describe(`second factors (${kind})`, { skip: await skipReason(kind) }, () => {
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
    let aliceByCode: WebClient;
    let aliceByTotp: WebClient;
    let aliceByPasskey: WebClient;
    let bobByCode: WebClient;
    let totp: ReturnType<typeof totpClock>;
    let recoveryCodes: string[];
    let aliceKey: SoftwareAuthenticator;
    let carolKey: SoftwareAuthenticator;

    const browser = () => {
      const client = new WebClient(base, ca);
      clients.push(client);
      return client;
    };

    async function nextMailMatching(to: string, since: number, pattern: RegExp) {
      for (let attempt = 0; attempt < 100; attempt++) {
        const found = mail.received.slice(since).find((message) => message.to.includes(to) && pattern.test(message.text));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no matching mail for ${to}`);
    }

    async function signUpAndVerify(person: typeof alice, company: string): Promise<void> {
      const since = mail.received.length;
      assert.equal((await browser().post("/v1/auth/signup", { companyName: company, ...person })).status, 202);
      const token = tokenIn(await mail.next(person.email, since));
      secrets.push(token);
      assert.equal((await browser().post("/v1/auth/verify-email", { token })).status, 200);
    }

    // Password, then (for a user without a stronger factor) the e-mailed code.
    async function signInWithCode(person: typeof alice): Promise<WebClient> {
      const client = browser();
      const since = mail.received.length;
      const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
      assert.deepEqual([login.status, login.json().status], [202, "code_required"], login.text);
      const code = codeIn(await nextMailMatching(person.email, since, /code is/));
      secrets.push(login.json().challengeToken);
      const verified = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code });
      assert.equal(verified.status, 200, verified.text);
      secrets.push(client.cookies.get("__Host-sr_session")!);
      return client;
    }

    // Password from a new browser; the answer must ask for a second factor.
    async function passwordStep(person: typeof alice, client = browser()): Promise<{ client: WebClient; challengeToken: string; methods: string[] }> {
      const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
      assert.deepEqual([login.status, login.json().status], [202, "second_factor_required"], login.text);
      secrets.push(login.json().challengeToken);
      return { client, challengeToken: login.json().challengeToken, methods: login.json().methods };
    }

    async function passkeyOptions(client: WebClient, challengeToken: string) {
      const options = await client.post("/v1/auth/login/passkey/options", { challengeToken });
      assert.equal(options.status, 200, options.text);
      secrets.push(options.json().challenge);
      return options.json();
    }

    async function registerPasskey(client: WebClient, key: SoftwareAuthenticator) {
      const options = await client.post("/v1/account/passkeys/registration-options");
      assert.equal(options.status, 200, options.text);
      secrets.push(options.json().challenge);
      const response = await key.create(options.json());
      return { response, answer: await client.post("/v1/account/passkeys", { response }) };
    }

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-second-factors-"));
      mail = await startMailServer();
      const certificate = await ensureSelfSignedCertificate(dir);
      ca = await readFile(certificate.certFile);
      const vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      const destination = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
      const identity = createIdentityDeps({
        db: test.database.db,
        vault,
        messages: createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "strongroom@test.example" }),
        publicUrl,
      });
      app = await buildApp({
        vault,
        logger: createLogger({ level: "debug", destination }),
        certificate,
        bodyLimitBytes: 64 * 1024,
        trustedProxies: [],
        operatorCidrs: ["127.0.0.1/32"],
        version: "test",
        identity,
      });
      // Until the routes are wired into buildApp, the test adds them the same way.
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `https://localhost:${(app.server.address() as { port: number }).port}`;
      // The browser runs the app at its public address: that is the origin the authenticator sees.
      aliceKey = createSoftwareAuthenticator({ origin: publicUrl });
      carolKey = createSoftwareAuthenticator({ origin: publicUrl });
      secrets.push(alice.password, bob.password, carol.password);

      await signUpAndVerify(alice, "Company A");
      await signUpAndVerify(carol, "Company B");
      aliceByCode = await signInWithCode(alice);
      tenantA = (await aliceByCode.get("/v1/auth/session")).json().tenants[0].id;
      const since = mail.received.length;
      assert.equal((await aliceByCode.post(`/v1/tenants/${tenantA}/invitations`, { email: bob.email, role: "admin" })).status, 201);
      const invitation = tokenIn(await mail.next(bob.email, since));
      secrets.push(invitation);
      assert.equal((await browser().post("/v1/invitations/accept", { token: invitation, name: bob.name, password: bob.password })).status, 200);
      bobByCode = await signInWithCode(bob);
    });

    after(async () => {
      await app?.close();
      await mail?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("TOTP enrolment: the secret is shown once, a current code turns it on, ten recovery codes come once", async () => {
      const started = await aliceByCode.post("/v1/account/totp");
      assert.equal(started.status, 201, started.text);
      const { secret, otpauthUri } = started.json() as { secret: string; otpauthUri: string };
      secrets.push(secret, otpauthUri);
      assert.match(otpauthUri, /^otpauth:\/\/totp\/Strongroom:alice%40a\.example\?/);
      assert.ok(otpauthUri.includes(`secret=${secret}`) && otpauthUri.includes("period=30") && otpauthUri.includes("digits=6"));
      assert.ok(Secret.fromBase32(secret).bytes.length >= 20, "a 160-bit secret");
      totp = totpClock(secret);

      const wrong = await aliceByCode.post("/v1/account/totp/confirm", { code: totp.wrong() });
      assert.deepEqual([wrong.status, wrong.json().error], [400, "code_invalid"]);
      assert.equal((await aliceByCode.get("/v1/account/second-factors")).json().totp.enabled, false);

      const confirmed = await aliceByCode.post("/v1/account/totp/confirm", { code: totp.next() });
      assert.equal(confirmed.status, 200, confirmed.text);
      recoveryCodes = confirmed.json().recoveryCodes;
      assert.equal(recoveryCodes.length, 10);
      assert.equal(new Set(recoveryCodes).size, 10);
      for (const code of recoveryCodes) {
        assert.match(code, /^([0-9a-z]{4}-){6}[0-9a-z]{4}$/);
        secrets.push(code, code.replace(/-/g, ""));
      }

      const status = (await aliceByCode.get("/v1/account/second-factors")).json();
      assert.deepEqual([status.totp.enabled, status.recoveryCodesLeft, status.currentSessionSecondFactor], [true, 10, "email_code"]);
      assert.ok(!JSON.stringify(status).includes(secret), "the secret is never shown again");
      assert.deepEqual((await aliceByCode.post("/v1/account/totp")).json().error, "conflict");
      assert.deepEqual((await aliceByCode.post("/v1/account/totp/confirm", { code: totp.wrong() })).json().error, "conflict");
      const stored = await test.database.db.selectFrom("recovery_codes").select("code_hash").execute();
      assert.equal(stored.length, 10);
    });

    it("a new device must give a current TOTP code; it opens a session recorded as TOTP", async () => {
      const since = mail.received.length;
      const { client, challengeToken, methods } = await passwordStep(alice);
      assert.deepEqual(methods, ["totp", "recovery_code", "email_code"]);
      assert.equal(client.cookies.size, 0, "no session before the second factor");
      const code = totp.next();
      const signedIn = await client.post("/v1/auth/login/totp", { challengeToken, code });
      assert.deepEqual([signedIn.status, signedIn.json().secondFactor], [200, "totp"], signedIn.text);
      assert.ok(client.cookies.has("__Host-sr_session") && client.cookies.has("__Host-sr_device"));
      assert.ok(!mail.received.slice(since).some((message) => /code is/.test(message.text)), "no code was e-mailed");
      assert.equal((await client.get("/v1/account/second-factors")).json().currentSessionSecondFactor, "totp");
      aliceByTotp = client;

      // The same code from another new device: refused, it was used.
      const again = await passwordStep(alice);
      const replayed = await again.client.post("/v1/auth/login/totp", { challengeToken: again.challengeToken, code });
      assert.deepEqual([replayed.status, replayed.json().error], [400, "code_reused"]);
      assert.equal(again.client.cookies.size, 0);
    });

    it("five wrong TOTP codes lock the attempt; the right code is refused after", async () => {
      const { client, challengeToken } = await passwordStep(alice);
      const answers: string[] = [];
      for (let attempt = 0; attempt < 5; attempt++) answers.push((await client.post("/v1/auth/login/totp", { challengeToken, code: totp.wrong() })).json().error);
      assert.deepEqual(answers, ["code_invalid", "code_invalid", "code_invalid", "code_invalid", "code_locked"]);
      const right = await client.post("/v1/auth/login/totp", { challengeToken, code: totp.codeAt(totp.currentStep()) });
      assert.deepEqual([right.status, right.json().error], [429, "code_locked"]);
      assert.equal(client.cookies.size, 0);
    });

    it("wrong answers of every kind count against one limit", async () => {
      const { client, challengeToken } = await passwordStep(alice);
      const since = mail.received.length;
      assert.equal((await client.post("/v1/auth/login/send-code", { challengeToken })).status, 202);
      const emailed = codeIn(await nextMailMatching(alice.email, since, /code is/));
      const answers = [
        (await client.post("/v1/auth/login/totp", { challengeToken, code: totp.wrong() })).json().error,
        (await client.post("/v1/auth/login/recovery-code", { challengeToken, code: "0000-0000-0000-0000-0000-0000-0000" })).json().error,
        (await client.post("/v1/auth/login/code", { challengeToken, code: emailed === "000000" ? "000001" : "000000" })).json().error,
        (await client.post("/v1/auth/login/totp", { challengeToken, code: totp.wrong() })).json().error,
        (await client.post("/v1/auth/login/recovery-code", { challengeToken, code: "1111-1111-1111-1111-1111-1111-1111" })).json().error,
      ];
      assert.deepEqual(answers, ["code_invalid", "code_invalid", "code_invalid", "code_invalid", "code_locked"]);
      for (const [path, code] of [["/v1/auth/login/code", emailed], ["/v1/auth/login/recovery-code", recoveryCodes[9]!]] as const) {
        const right = await client.post(path, { challengeToken, code });
        assert.deepEqual([right.status, right.json().error], [429, "code_locked"]);
      }
    });

    it("a recovery code signs in once", async () => {
      const first = await passwordStep(alice);
      // Typed by hand: upper case, spaces instead of dashes.
      const typed = recoveryCodes[0]!.toUpperCase().replace(/-/g, " ");
      const signedIn = await first.client.post("/v1/auth/login/recovery-code", { challengeToken: first.challengeToken, code: typed });
      assert.deepEqual([signedIn.status, signedIn.json().secondFactor], [200, "recovery_code"], signedIn.text);
      assert.equal((await first.client.get("/v1/account/second-factors")).json().recoveryCodesLeft, 9);
      const second = await passwordStep(alice);
      const reused = await second.client.post("/v1/auth/login/recovery-code", { challengeToken: second.challengeToken, code: recoveryCodes[0] });
      assert.deepEqual([reused.status, reused.json().error], [400, "code_invalid"]);
    });

    it("the e-mailed code stays the fallback for a TOTP user, sent on request and once", async () => {
      const { client, challengeToken } = await passwordStep(alice);
      const early = await client.post("/v1/auth/login/code", { challengeToken, code: "123456" });
      assert.deepEqual([early.status, early.json().error], [400, "second_factor_unavailable"]);
      const since = mail.received.length;
      const sent = await client.post("/v1/auth/login/send-code", { challengeToken });
      assert.deepEqual([sent.status, sent.json()], [202, { status: "code_sent", channel: "email" }]);
      const code = codeIn(await nextMailMatching(alice.email, since, /code is/));
      const resend = await client.post("/v1/auth/login/send-code", { challengeToken });
      assert.deepEqual([resend.status, resend.json().error], [409, "conflict"]);
      const signedIn = await client.post("/v1/auth/login/code", { challengeToken, code });
      assert.equal(signedIn.status, 200, signedIn.text);
      assert.equal((await client.get("/v1/account/second-factors")).json().currentSessionSecondFactor, "email_code");
    });

    it("passkeys: registered with a real authenticator, bound to the session, single-use and short-lived", async () => {
      const { response, answer } = await registerPasskey(aliceByTotp, aliceKey);
      assert.equal(answer.status, 201, answer.text);
      const listed = (await aliceByTotp.get("/v1/account/passkeys")).json().passkeys as { id: string; transports: string[] }[];
      assert.deepEqual(listed.map((passkey) => [passkey.id, passkey.transports]), [[answer.json().id, ["internal"]]]);
      const stored = await test.database.db.selectFrom("webauthn_credentials").selectAll().execute();
      assert.deepEqual(stored.map((row) => row.credential_id), [response.id]);

      // The same answer again: its challenge is spent.
      const replayed = await aliceByTotp.post("/v1/account/passkeys", { response });
      assert.deepEqual([replayed.status, replayed.json().error], [400, "passkey_invalid"]);

      // A challenge issued to one session cannot be answered from another of the same user.
      const other = await registerPasskeyAcrossSessions(aliceByTotp, aliceByCode, createSoftwareAuthenticator({ origin: publicUrl }));
      assert.deepEqual([other.status, other.json().error], [400, "passkey_invalid"]);

      // Five minutes and it is gone.
      const options = (await aliceByTotp.post("/v1/account/passkeys/registration-options")).json();
      secrets.push(options.challenge);
      await test.database.db.updateTable("webauthn_challenges").set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where("consumed_at", "is", null).execute();
      const late = await aliceByTotp.post("/v1/account/passkeys", { response: await createSoftwareAuthenticator({ origin: publicUrl }).create(options) });
      assert.deepEqual([late.status, late.json().error], [400, "passkey_invalid"]);

      // An attestation for another site's origin is refused.
      const phishingKey = createSoftwareAuthenticator({ origin: "https://strongroom.example.net" });
      const phishing = await registerPasskey(aliceByTotp, phishingKey);
      assert.deepEqual([phishing.answer.status, phishing.answer.json().error], [400, "passkey_invalid"]);
      assert.equal((await aliceByTotp.get("/v1/account/passkeys")).json().passkeys.length, 1);
    });

    async function registerPasskeyAcrossSessions(asking: WebClient, answering: WebClient, key: SoftwareAuthenticator) {
      const options = (await asking.post("/v1/account/passkeys/registration-options")).json();
      secrets.push(options.challenge);
      return answering.post("/v1/account/passkeys", { response: await key.create(options) });
    }

    it("a new device can give a passkey instead; the counter moves forward", async () => {
      const { client, challengeToken, methods } = await passwordStep(alice);
      assert.deepEqual(methods, ["totp", "recovery_code", "passkey", "email_code"]);
      const options = await passkeyOptions(client, challengeToken);
      assert.equal(options.rpId, "localhost");
      assert.deepEqual(options.allowCredentials.map((credential: { id: string }) => credential.id), aliceKey.credentialIds());
      const signedIn = await client.post("/v1/auth/login/passkey/verify", { challengeToken, response: await aliceKey.get(options) });
      assert.deepEqual([signedIn.status, signedIn.json().secondFactor], [200, "passkey"], signedIn.text);
      const credential = await test.database.db.selectFrom("webauthn_credentials").selectAll().executeTakeFirstOrThrow();
      assert.equal(credential.counter, 1);
      assert.ok(credential.last_used_at);
      aliceByPasskey = client;
    });

    it("refuses a tampered assertion, a wrong or replayed challenge, another user's passkey and a cloned authenticator", async () => {
      const carolBrowser = await signInWithCode(carol);
      assert.equal((await registerPasskey(carolBrowser, carolKey)).answer.status, 201);

      const { client, challengeToken } = await passwordStep(alice);
      const verify = (response: unknown) => client.post("/v1/auth/login/passkey/verify", { challengeToken, response });
      const first = await passkeyOptions(client, challengeToken);

      // A flipped byte in the signature.
      const tampered = await aliceKey.get(first);
      const signature = Buffer.from(tampered.response.signature, "base64url");
      signature[signature.length - 1]! ^= 0x01;
      tampered.response.signature = signature.toString("base64url");
      assert.equal((await verify(tampered)).json().error, "passkey_invalid");

      // A correct signature over the same (now spent) challenge.
      assert.equal((await verify(await aliceKey.get(first))).json().error, "passkey_invalid");

      // A signature over a challenge the server never issued.
      const second = await passkeyOptions(client, challengeToken);
      assert.equal((await verify(await aliceKey.get({ ...second, challenge: randomBytes(32).toString("base64url") }))).json().error, "passkey_invalid");

      // Carol's passkey answering the challenge issued for Alice.
      const carolAnswer = await carolKey.get(second, { credentialId: carolKey.credentialIds()[0]! });
      assert.equal((await verify(carolAnswer)).json().error, "passkey_invalid");

      // Four failures so far; Alice's own passkey still gets in with a fresh challenge.
      const third = await passkeyOptions(client, challengeToken);
      const good = await verify(await aliceKey.get(third));
      assert.equal(good.status, 200, good.text);

      // An earlier good assertion, replayed in a new sign-in attempt.
      const replay = await passwordStep(alice);
      const replayOptions = await passkeyOptions(replay.client, replay.challengeToken);
      const replayed = await replay.client.post("/v1/auth/login/passkey/verify", { challengeToken: replay.challengeToken, response: await aliceKey.get(third) });
      assert.equal(replayed.json().error, "passkey_invalid");

      // A cloned authenticator whose counter went back.
      const credentialId = aliceKey.credentialIds()[0]!;
      aliceKey.setCounter(credentialId, 0);
      const cloned = await replay.client.post("/v1/auth/login/passkey/verify", { challengeToken: replay.challengeToken, response: await aliceKey.get(replayOptions) });
      assert.equal(cloned.json().error, "passkey_invalid");
      aliceKey.setCounter(credentialId, 100);

      // Carol's options for Alice's attempt name only Alice's passkeys, and Carol cannot delete Alice's.
      const alicePasskey = (await aliceByTotp.get("/v1/account/passkeys")).json().passkeys[0].id as string;
      const foreign = await carolBrowser.request("DELETE", `/v1/account/passkeys/${alicePasskey}`);
      assert.deepEqual([foreign.status, foreign.json().error], [404, "not_found"]);
      assert.equal((await aliceByTotp.get("/v1/account/passkeys")).json().passkeys.length, 1);
      const carolPasskey = (await carolBrowser.get("/v1/account/passkeys")).json().passkeys[0].id as string;
      assert.equal((await carolBrowser.request("DELETE", `/v1/account/passkeys/${carolPasskey}`)).status, 200);
      assert.equal((await carolBrowser.get("/v1/account/passkeys")).json().passkeys.length, 0);
      const carolLogin = await browser().post("/v1/auth/login", { email: carol.email, password: carol.password });
      assert.equal(carolLogin.json().status, "code_required", "without a passkey Carol is back to the e-mailed code");
      secrets.push(carolLogin.json().challengeToken);
    });

    it("a company can require its admins to use TOTP or a passkey", async () => {
      const security = `/v1/tenants/${tenantA}/security`;
      assert.deepEqual((await aliceByCode.get(security)).json(), { requireAdminMfa: false });
      // Not from a session that would be shut out at once.
      for (const client of [aliceByCode, bobByCode]) {
        const refused = await client.request("PUT", security, { requireAdminMfa: true });
        assert.deepEqual([refused.status, refused.json().error], [409, "conflict"]);
      }
      assert.deepEqual((await aliceByTotp.request("PUT", security, { requireAdminMfa: true })).json(), { requireAdminMfa: true });

      // Owner and admin signed in by e-mailed code: no admin actions, but still members.
      for (const client of [aliceByCode, bobByCode]) {
        const invite = await client.post(`/v1/tenants/${tenantA}/invitations`, { email: "dave@a.example", role: "member" });
        assert.deepEqual([invite.status, invite.json().error], [403, "second_factor_required"]);
        const off = await client.request("PUT", security, { requireAdminMfa: false });
        assert.deepEqual([off.status, off.json().error], [403, "second_factor_required"]);
        assert.equal((await client.get(`/v1/tenants/${tenantA}/members`)).status, 200);
      }
      // Signed in with TOTP or a passkey: allowed.
      assert.equal((await aliceByTotp.post(`/v1/tenants/${tenantA}/invitations`, { email: "dave@a.example", role: "member" })).status, 201);
      assert.equal((await aliceByPasskey.get(`/v1/tenants/${tenantA}/api-keys`)).status, 200);

      // An admin-scoped API key cannot switch the rule off.
      const key = (await aliceByTotp.post(`/v1/tenants/${tenantA}/api-keys`, { name: "automation", scopes: ["admin"] })).json().key as string;
      secrets.push(key.split(":")[1]!);
      const api = new WebClient(base, ca, { authorization: `Basic ${Buffer.from(key).toString("base64")}` });
      const byKey = await api.request("PUT", security, { requireAdminMfa: false });
      assert.deepEqual([byKey.status, byKey.json().error], [403, "forbidden"]);

      // A known device no longer spares Alice (an owner) the second factor.
      const known = new WebClient(base, ca);
      known.cookies.set("__Host-sr_device", aliceByTotp.cookies.get("__Host-sr_device")!);
      const login = await known.post("/v1/auth/login", { email: alice.email, password: alice.password });
      assert.deepEqual([login.status, login.json().status], [202, "second_factor_required"]);
      secrets.push(login.json().challengeToken);
    });

    it("TOTP is turned off with the password; its secret and recovery codes are gone", async () => {
      const wrongPassword = await aliceByTotp.post("/v1/account/totp/disable", { password: "not alice's password at all" });
      assert.deepEqual([wrongPassword.status, wrongPassword.json().error], [401, "invalid_credentials"]);
      const wrongCode = await aliceByTotp.post("/v1/account/totp/disable", { code: totp.wrong() });
      assert.deepEqual([wrongCode.status, wrongCode.json().error], [400, "code_invalid"]);
      const both = await aliceByTotp.post("/v1/account/totp/disable", { code: totp.wrong(), password: alice.password });
      assert.deepEqual([both.status, both.json().error], [400, "validation_failed"]);
      assert.equal((await aliceByTotp.post("/v1/account/totp/disable", { password: alice.password })).status, 200);
      const user = await test.database.db.selectFrom("users").select(["totp_secret_ciphertext", "totp_enabled_at"]).where("id", "=", (await aliceByTotp.get("/v1/auth/session")).json().user.id).executeTakeFirstOrThrow();
      assert.deepEqual([user.totp_secret_ciphertext, user.totp_enabled_at], [null, null]);
      assert.equal((await test.database.db.selectFrom("recovery_codes").selectAll().execute()).length, 0);
      const { methods } = await passwordStep(alice);
      assert.deepEqual(methods, ["passkey", "email_code"]);
    });

    it("no TOTP secret, recovery code, challenge or token is in the log or the database", async () => {
      const log = logLines.join("");
      assert.ok(log.includes("request completed") || log.length > 1000, "the log was captured");
      const stored = kind === "sqlite"
        ? (await Promise.all((await readdir(test.dataDir!)).map((name) => readFile(join(test.dataDir!, name))))).map((bytes) => bytes.toString("latin1")).join("")
        : (await promisify(execFile)("pg_dump", ["--data-only", (test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      assert.ok(stored.includes(tenantA), "the database dump is searchable");
      assert.ok(secrets.length > 40);
      for (const secret of new Set(secrets)) {
        assert.ok(!log.includes(secret), `a secret reached the log (${secret.length} chars)`);
        assert.ok(!stored.includes(secret), `a secret is stored in plaintext (${secret.length} chars)`);
      }
      const bodies = clients.flatMap((client) => client.bodies).join("\n");
      for (const secret of [alice.password, bob.password, carol.password]) assert.ok(!bodies.includes(secret), "a password was echoed in a response");
    });

    it("the OpenAPI description covers every second-factor route", async () => {
      const document = (await httpsRequest(`${base}/v1/openapi.json`, { ca })).json() as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
      for (const route of [
        "get /v1/account/second-factors", "post /v1/account/totp", "post /v1/account/totp/confirm", "post /v1/account/totp/disable",
        "post /v1/account/passkeys/registration-options", "post /v1/account/passkeys", "get /v1/account/passkeys", "delete /v1/account/passkeys/{passkeyId}",
        "post /v1/auth/login/totp", "post /v1/auth/login/recovery-code", "post /v1/auth/login/passkey/options", "post /v1/auth/login/passkey/verify",
        "post /v1/auth/login/send-code", "get /v1/tenants/{tenantId}/security", "put /v1/tenants/{tenantId}/security",
      ]) assert.ok(documented.includes(route), `${route} is documented`);
    });
  });
}
