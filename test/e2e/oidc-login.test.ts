// Sign-in with OpenID Connect end to end, on SQLite and PostgreSQL: the application over HTTPS, a real
// OpenID provider (oidc-provider) on loopback over HTTPS, a second one standing in for Microsoft Entra
// ID's multi-tenant endpoint (templated issuer), and mail to a real SMTP server. Proves the full
// sign-in, the link reused, and every refusal (state, browser, nonce, e-mail, account, company) with
// its code and no session; and that no code, state, nonce or token reaches the log or the database.
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
import { createAuthenticator } from "../../src/http/authenticate.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { oidcConfigSchema } from "../../src/modules/oidc/oidc-config.ts";
import { registerOidcRoutes } from "../../src/modules/oidc/oidc-routes.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import type { TestResponse } from "../support/https-request.ts";
import { startMailServer, tokenIn, type MailServer } from "../support/mail-server.ts";
import { createTrustingFetch, ProviderBrowser, startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { WebClient } from "../support/web-client.ts";

const publicUrl = "https://localhost";
const clientId = "strongroom-test";
const clientSecret = "the-client-secret-0f8a7c1d9e2b4a6c";
const entraTenant = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const otherEntraTenant = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
const sessionCookie = "__Host-sr_session";
const bindingCookie = "__Host-sr_oidc";

const alice = { email: "alice@a.example", password: "correct horse battery staple A1", name: "Alice" };
const carol = { email: "carol@b.example", password: "carol keeps company B safe 42", name: "Carol" };
const dave = { email: "dave@d.example", password: "dave never confirmed this one 7", name: "Dave" };
const erin = { email: "erin@e.example", password: "erin's company says no to OIDC", name: "Erin" };
const bob = { email: "bob@a.example", password: "bob's long and unusual passphrase", name: "Bob" };

for (const kind of databaseKinds) {
  describe(`sign-in with OpenID Connect (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let dir: string;
    let mail: MailServer;
    let corp: TestOidcProvider;
    let entra: TestOidcProvider;
    let app: FastifyInstance;
    let identity: IdentityDeps;
    let base: string;
    let ca: Buffer;
    const logLines: string[] = [];
    const seenByFetch: string[] = [];
    const secrets: string[] = [clientSecret];
    const clients: WebClient[] = [];
    let tenantA: string;
    let tenantB: string;
    let aliceBrowser: WebClient;

    const browser = () => {
      const client = new WebClient(base, ca);
      clients.push(client);
      return client;
    };
    const callbackPrefix = (providerId: string) => `${publicUrl}/v1/auth/oidc/${providerId}/callback?`;
    const count = async (table: "sessions" | "oidc_identities" | "devices") =>
      Number((await identity.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);

    // Starts at the application, signs in at the provider as `account`, and returns the callback URL
    // the provider sent the browser to (not yet opened).
    async function signInAtProvider(client: WebClient, providerId: string, account: string, options: { tenant?: string; edit?: (url: URL) => void } = {}) {
      const start = await client.get(`/v1/auth/oidc/${providerId}/start${options.tenant ? `?tenant=${options.tenant}` : ""}`);
      assert.equal(start.status, 302, start.text);
      const authorizationUrl = new URL(String(start.headers.location));
      secrets.push(authorizationUrl.searchParams.get("state")!, authorizationUrl.searchParams.get("nonce")!, client.cookies.get(bindingCookie)!);
      options.edit?.(authorizationUrl);
      const provider = providerId === "microsoft" ? entra : corp;
      const callback = await new ProviderBrowser(provider).signIn(authorizationUrl.href, account, callbackPrefix(providerId));
      secrets.push(callback.searchParams.get("code")!);
      return { authorizationUrl, callback };
    }

    const openCallback = (client: WebClient, callback: URL) => client.get(`${callback.pathname}${callback.search}`);

    async function signedInWith(client: WebClient, providerId: string, account: string, tenant?: string): Promise<TestResponse> {
      const { callback } = await signInAtProvider(client, providerId, account, tenant ? { tenant } : {});
      const arrived = await openCallback(client, callback);
      assert.equal(arrived.status, 302, arrived.text);
      assert.equal(arrived.headers.location, "/");
      secrets.push(client.cookies.get(sessionCookie)!);
      const session = await client.get("/v1/auth/session");
      assert.equal(session.status, 200, session.text);
      return session;
    }

    // The operator's log line for the last verification failure: why it was refused.
    const lastFailureReason = () => {
      const line = logLines.filter((entry) => entry.includes('"oidc_verification_failed"')).at(-1);
      return line ? String((JSON.parse(line) as { reason?: string }).reason) : "";
    };

    async function refused(client: WebClient, response: TestResponse, status: number, error: string): Promise<void> {
      assert.deepEqual([response.status, response.json().error], [status, error], response.text);
      assert.ok(!client.cookies.has(sessionCookie), "no session cookie after a refusal");
      assert.equal((await client.get("/v1/auth/session")).status, 401);
    }

    async function signUpAndVerify(person: typeof alice, company: string, verify = true): Promise<void> {
      const since = mail.received.length;
      const signup = await browser().post("/v1/auth/signup", { companyName: company, ...person });
      assert.equal(signup.status, 202, signup.text);
      const token = tokenIn(await mail.next(person.email, since));
      secrets.push(token);
      if (verify) assert.equal((await browser().post("/v1/auth/verify-email", { token })).status, 200);
    }

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-oidc-"));
      mail = await startMailServer();
      const certificate = await ensureSelfSignedCertificate(dir);
      ca = await readFile(certificate.certFile);
      const redirectUris = [`${publicUrl}/v1/auth/oidc/corp/callback`, `${publicUrl}/v1/auth/oidc/microsoft/callback`];
      corp = await startOidcProvider({
        clientId, clientSecret, redirectUris,
        accounts: {
          "alice-sub": { email: alice.email, email_verified: true, name: alice.name },
          "alice-unverified": { email: alice.email, email_verified: false },
          "alice-string-true": { email: alice.email, email_verified: "true" },
          "carol-sub": { email: carol.email, email_verified: true },
          "bob-sub": { email: bob.email, email_verified: true },
          "dave-sub": { email: dave.email, email_verified: true },
          "erin-sub": { email: erin.email, email_verified: true },
          "stranger": { email: "nobody@x.example", email_verified: true },
        },
      });
      entra = await startOidcProvider({
        clientId, clientSecret, redirectUris, entraTenantId: entraTenant,
        accounts: {
          "entra-alice": { tid: entraTenant, email: alice.email, xms_edov: true, preferred_username: alice.email },
          "entra-alice-no-edov": { tid: entraTenant, email: alice.email, preferred_username: alice.email },
          "entra-other-tenant": { tid: otherEntraTenant, email: alice.email, xms_edov: true },
        },
      });

      const vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      const destination = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
      identity = createIdentityDeps({
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
      const providers = oidcConfigSchema.parse([
        { id: "corp", kind: "generic", issuer: corp.issuer, clientId, clientSecret },
        { id: "microsoft", kind: "microsoft", issuer: entra.issuer, clientId, clientSecret },
      ]);
      // The test's providers are trusted through their own CA; the application's fetch is otherwise untouched.
      const fetch = createTrustingFetch({ providers: [corp, entra], seen: seenByFetch });
      await registerOidcRoutes(app, identity, createAuthenticator(identity), providers, { fetch });
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `https://localhost:${(app.server.address() as { port: number }).port}`;
      secrets.push(alice.password, carol.password, dave.password, erin.password, bob.password);

      await signUpAndVerify(alice, "Company A");
      await signUpAndVerify(carol, "Company B");
      await signUpAndVerify(erin, "Company E");
      await signUpAndVerify(dave, "Company D", false);
    });

    after(async () => {
      await app?.close();
      await corp?.close();
      await entra?.close();
      await mail?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("lists the providers on offer", async () => {
      const list = await browser().get("/v1/auth/oidc/providers");
      assert.deepEqual(list.json().providers.map((provider: { id: string; kind: string }) => `${provider.id}:${provider.kind}`), ["corp:generic", "microsoft:microsoft"]);
      const unknown = await browser().get("/v1/auth/oidc/nope/start");
      assert.deepEqual([unknown.status, unknown.json().error], [404, "not_found"]);
    });

    it("a full sign-in: code with PKCE S256, state and nonce, a browser-bound cookie, then a session marked oidc", async () => {
      const client = browser();
      const sessionsBefore = await count("sessions");
      const since = mail.received.length;
      const { authorizationUrl, callback } = await signInAtProvider(client, "corp", "alice-sub");
      assert.equal(authorizationUrl.searchParams.get("response_type"), "code");
      assert.equal(authorizationUrl.searchParams.get("code_challenge_method"), "S256");
      assert.match(authorizationUrl.searchParams.get("code_challenge")!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(authorizationUrl.searchParams.get("state")!, /^[A-Za-z0-9_-]{43}$/);
      assert.match(authorizationUrl.searchParams.get("nonce")!, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(authorizationUrl.searchParams.get("redirect_uri"), `${publicUrl}/v1/auth/oidc/corp/callback`);
      assert.equal(authorizationUrl.searchParams.get("scope"), "openid email profile");
      assert.ok(client.cookies.has(bindingCookie));

      const arrived = await openCallback(client, callback);
      assert.deepEqual([arrived.status, arrived.headers.location], [302, "/"], arrived.text);
      assert.match(String(arrived.headers["set-cookie"]), /__Host-sr_session=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax/);
      assert.ok(client.cookies.has("__Host-sr_device"), "the browser is now a known device");
      secrets.push(client.cookies.get(sessionCookie)!);

      const session = await client.get("/v1/auth/session");
      assert.equal(session.status, 200, session.text);
      assert.equal(session.json().user.email, alice.email);
      tenantA = session.json().tenants[0].id;
      assert.equal(session.json().activeTenantId, tenantA);
      const row = await identity.db.selectFrom("sessions").selectAll().where("id", "=", session.json().sessionId).executeTakeFirstOrThrow();
      assert.equal(row.second_factor, "oidc");
      assert.equal(await count("sessions"), sessionsBefore + 1);
      const links = await identity.db.selectFrom("oidc_identities").selectAll().execute();
      assert.deepEqual(links.map((link) => [link.issuer, link.subject]), [[corp.issuer, "alice-sub"]]);
      assert.match((await mail.next(alice.email, since)).text, /New sign-in/);
      aliceBrowser = client;
    });

    it("a second sign-in reuses the link, even after the provider's e-mail changed, and a known device gets no notice", async () => {
      corp.accounts.set("alice-sub", { email: "alice.renamed@elsewhere.example", email_verified: false });
      const devices = await count("devices");
      const since = mail.received.length;
      const client = browser();
      client.cookies.set("__Host-sr_device", aliceBrowser.cookies.get("__Host-sr_device")!);
      const session = await signedInWith(client, "corp", "alice-sub");
      assert.equal(session.json().user.email, alice.email);
      assert.equal(await count("oidc_identities"), 1);
      assert.equal(await count("devices"), devices, "the device was recognised");
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(mail.received.length, since, "no new-device notice");
      corp.accounts.set("alice-sub", { email: alice.email, email_verified: true, name: alice.name });
    });

    it("a replayed callback (state used once) is refused", async () => {
      const client = browser();
      const { callback } = await signInAtProvider(client, "corp", "alice-sub");
      assert.equal((await openCallback(client, callback)).status, 302);
      client.cookies.delete(sessionCookie);
      await refused(client, await openCallback(client, callback), 400, "oidc_state_invalid");
    });

    it("a callback opened in another browser (no binding cookie) is refused, and the attempt is spent", async () => {
      const started = browser();
      const { callback } = await signInAtProvider(started, "corp", "alice-sub");
      const sessions = await count("sessions");
      const other = browser();
      await refused(other, await openCallback(other, callback), 400, "oidc_state_invalid");
      const forged = browser();
      forged.cookies.set(bindingCookie, "A".repeat(43));
      await refused(forged, await openCallback(forged, callback), 400, "oidc_state_invalid");
      await refused(started, await openCallback(started, callback), 400, "oidc_state_invalid");
      assert.equal(await count("sessions"), sessions);
    });

    it("a state that was never issued, a missing state, or another provider's state is refused", async () => {
      const client = browser();
      const { callback } = await signInAtProvider(client, "corp", "alice-sub");
      const state = callback.searchParams.get("state")!;
      const altered = new URL(callback);
      altered.searchParams.set("state", `${state.slice(0, -1)}${state.endsWith("A") ? "B" : "A"}`);
      await refused(client, await openCallback(client, altered), 400, "oidc_state_invalid");
      const missing = new URL(callback);
      missing.searchParams.delete("state");
      await refused(client, await openCallback(client, missing), 400, "oidc_state_invalid");
      const elsewhere = new URL(callback);
      elsewhere.pathname = "/v1/auth/oidc/microsoft/callback";
      await refused(client, await openCallback(client, elsewhere), 400, "oidc_state_invalid");
      // That spent the attempt too (the state is single-use whatever happened).
      await refused(client, await openCallback(client, callback), 400, "oidc_state_invalid");
    });

    it("an attempt older than ten minutes is refused", async () => {
      const client = browser();
      const { callback } = await signInAtProvider(client, "corp", "alice-sub");
      await identity.db.updateTable("oidc_login_attempts").set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where("consumed_at", "is", null).execute();
      await refused(client, await openCallback(client, callback), 400, "oidc_state_invalid");
    });

    it("one address may hold only so many open sign-ins", async () => {
      const client = browser();
      let answer: TestResponse | undefined;
      for (let attempt = 0; attempt < 60 && answer === undefined; attempt++) {
        const start = await client.get("/v1/auth/oidc/corp/start");
        if (start.status !== 302) answer = start;
        else secrets.push(new URL(String(start.headers.location)).searchParams.get("state")!);
      }
      assert.deepEqual([answer?.status, answer?.json().error], [429, "too_many_requests"]);
      await identity.db.updateTable("oidc_login_attempts").set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where("consumed_at", "is", null).execute();
      assert.equal((await client.get("/v1/auth/oidc/corp/start")).status, 302, "expired attempts no longer count");
    });

    it("an ID token with another nonce is refused", async () => {
      const client = browser();
      const { callback } = await signInAtProvider(client, "corp", "alice-sub", {
        edit: (url) => url.searchParams.set("nonce", "an-attacker-chosen-nonce-value-0123456789ab"),
      });
      await refused(client, await openCallback(client, callback), 401, "oidc_failed");
      assert.match(lastFailureReason(), /claim "nonce"/);
    });

    it("a code from one attempt with the state of another is refused (PKCE and nonce do not match)", async () => {
      const client = browser();
      const first = await signInAtProvider(client, "corp", "alice-sub");
      const second = await signInAtProvider(client, "corp", "alice-sub");
      const swapped = new URL(second.callback);
      swapped.searchParams.set("code", first.callback.searchParams.get("code")!);
      await refused(client, await openCallback(client, swapped), 401, "oidc_failed");
      assert.match(lastFailureReason(), /invalid_grant/, "the provider refused the code for the other attempt's PKCE verifier");
    });

    it("a provider's refusal is reported without a session", async () => {
      const client = browser();
      const start = await client.get("/v1/auth/oidc/corp/start");
      const state = new URL(String(start.headers.location)).searchParams.get("state")!;
      secrets.push(state, client.cookies.get(bindingCookie)!);
      const response = await client.get(`/v1/auth/oidc/corp/callback?error=access_denied&error_description=User+cancelled&state=${state}`);
      await refused(client, response, 401, "oidc_failed");
    });

    it("an e-mail the provider did not verify links nothing", async () => {
      for (const account of ["alice-unverified", "alice-string-true"]) {
        const client = browser();
        const { callback } = await signInAtProvider(client, "corp", account);
        await refused(client, await openCallback(client, callback), 403, "oidc_email_unverified");
      }
      assert.equal(await count("oidc_identities"), 1);
    });

    it("an address with no account, or an account whose address was never confirmed, gets no account and no link", async () => {
      const stranger = browser();
      const first = await signInAtProvider(stranger, "corp", "stranger");
      await refused(stranger, await openCallback(stranger, first.callback), 403, "oidc_no_account");
      const daveBrowser = browser();
      const second = await signInAtProvider(daveBrowser, "corp", "dave-sub");
      await refused(daveBrowser, await openCallback(daveBrowser, second.callback), 403, "email_unverified");
      assert.equal(await count("oidc_identities"), 1);
      const users = await identity.db.selectFrom("users").select("id").execute();
      assert.equal(users.length, 4, "no account was created");
    });

    it("a company that does not allow OIDC: no sign-in and no link", async () => {
      await identity.db.updateTable("tenants").set({ oidc_allowed: 0 })
        .where("id", "in", identity.db.selectFrom("memberships").innerJoin("users", "users.id", "memberships.user_id").select("memberships.tenant_id")
          .where("users.email_index", "=", identity.vault.mac("email-index", erin.email))).execute();
      const client = browser();
      const { callback } = await signInAtProvider(client, "corp", "erin-sub");
      await refused(client, await openCallback(client, callback), 403, "oidc_not_allowed");
      assert.equal(await count("oidc_identities"), 1);
    });

    it("an owner switches OIDC off for the company; a member may not; another company's admin sees nothing", async () => {
      const carolBrowser = browser();
      const session = await signedInWith(carolBrowser, "corp", "carol-sub");
      tenantB = session.json().tenants[0].id;
      assert.deepEqual((await carolBrowser.get(`/v1/tenants/${tenantB}/oidc`)).json(), { oidcAllowed: true });
      const forged = await carolBrowser.request("PUT", `/v1/tenants/${tenantB}/oidc`, { allowed: false }, { "x-csrf-token": "forged" });
      assert.deepEqual([forged.status, forged.json().error], [403, "csrf_failed"]);
      const bad = await carolBrowser.request("PUT", `/v1/tenants/${tenantB}/oidc`, { allowed: "no" });
      assert.deepEqual([bad.status, bad.json().error], [400, "validation_failed"]);
      const off = await carolBrowser.request("PUT", `/v1/tenants/${tenantB}/oidc`, { allowed: false });
      assert.deepEqual([off.status, off.json()], [200, { oidcAllowed: false }]);

      // Alice (admin of A only) cannot see or change B.
      await aliceBrowser.get("/v1/auth/session");
      const foreign = await aliceBrowser.request("PUT", `/v1/tenants/${tenantB}/oidc`, { allowed: true });
      assert.deepEqual([foreign.status, foreign.json().error], [404, "not_found"]);

      // Carol is linked already, and still refused while her only company says no.
      const again = browser();
      const { callback } = await signInAtProvider(again, "corp", "carol-sub");
      await refused(again, await openCallback(again, callback), 403, "oidc_not_allowed");

      // Bob, a viewer in A, may sign in with OIDC but not change the setting.
      const since = mail.received.length;
      const invite = await aliceBrowser.post(`/v1/tenants/${tenantA}/invitations`, { email: bob.email, role: "viewer" });
      assert.equal(invite.status, 201, invite.text);
      const token = tokenIn(await mail.next(bob.email, since));
      secrets.push(token);
      assert.equal((await browser().post("/v1/invitations/accept", { token, name: bob.name, password: bob.password })).status, 200);
      const bobBrowser = browser();
      await signedInWith(bobBrowser, "corp", "bob-sub");
      const denied = await bobBrowser.request("PUT", `/v1/tenants/${tenantA}/oidc`, { allowed: false });
      assert.deepEqual([denied.status, denied.json().error], [403, "forbidden"]);

      const on = await carolBrowser.request("PUT", `/v1/tenants/${tenantB}/oidc`, { allowed: true });
      assert.equal(on.status, 200);
      await signedInWith(browser(), "corp", "carol-sub");
    });

    it("a company hint must be one of the person's companies that allows OIDC", async () => {
      const wrong = browser();
      const { callback } = await signInAtProvider(wrong, "corp", "alice-sub", { tenant: tenantB });
      await refused(wrong, await openCallback(wrong, callback), 403, "oidc_not_allowed");
      const right = await signedInWith(browser(), "corp", "alice-sub", tenantA);
      assert.equal(right.json().activeTenantId, tenantA);
      const malformed = await browser().get("/v1/auth/oidc/corp/start?tenant=..%2F..");
      assert.deepEqual([malformed.status, malformed.json().error], [400, "validation_failed"]);
    });

    it("Microsoft Entra ID (templated issuer): a token's iss must be its own tenant's, and e-mail counts only with xms_edov", async () => {
      const session = await signedInWith(browser(), "microsoft", "entra-alice");
      assert.equal(session.json().user.email, alice.email);
      const link = await identity.db.selectFrom("oidc_identities").selectAll().where("subject", "=", "entra-alice").executeTakeFirstOrThrow();
      assert.equal(link.issuer, `https://login.microsoftonline.com/${entraTenant}/v2.0`);

      const unverified = browser();
      const first = await signInAtProvider(unverified, "microsoft", "entra-alice-no-edov");
      await refused(unverified, await openCallback(unverified, first.callback), 403, "oidc_email_unverified");

      // Signed by the same keys, but its tid names another tenant than its iss: refused.
      const otherTenant = browser();
      const second = await signInAtProvider(otherTenant, "microsoft", "entra-other-tenant");
      await refused(otherTenant, await openCallback(otherTenant, second.callback), 401, "oidc_failed");
      assert.match(lastFailureReason(), /claim "iss"/);
    });

    it("a browser asking for HTML gets a page with the code, never the state", async () => {
      const client = browser();
      const { callback } = await signInAtProvider(client, "corp", "stranger");
      const page = await client.request("GET", `${callback.pathname}${callback.search}`, undefined, { accept: "text/html,application/xhtml+xml" });
      assert.equal(page.status, 403);
      assert.match(String(page.headers["content-type"]), /^text\/html/);
      assert.match(page.text, /oidc_no_account/);
      assert.ok(!page.text.includes(callback.searchParams.get("state")!) && !page.text.includes(callback.searchParams.get("code")!));
    });

    it("no code, state, nonce, binding cookie, session token, provider token or client secret is in the log, the database or a response", async () => {
      for (const text of seenByFetch) {
        try {
          const body = JSON.parse(text) as Record<string, unknown>;
          for (const name of ["access_token", "id_token", "refresh_token"]) if (typeof body[name] === "string") secrets.push(body[name] as string);
        } catch {
          // Not JSON (none expected): nothing to collect.
        }
      }
      assert.ok(secrets.some((secret) => secret.split(".").length === 3), "ID tokens were collected");
      const log = logLines.join("");
      assert.ok(log.length > 1000, "the log was captured");
      const stored = kind === "sqlite"
        ? (await Promise.all((await readdir(test.dataDir!)).map((name) => readFile(join(test.dataDir!, name))))).map((bytes) => bytes.toString("latin1")).join("")
        : (await promisify(execFile)("pg_dump", ["--data-only", (test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      assert.ok(stored.includes(tenantA) && stored.includes("alice-sub"), "the database dump is searchable");
      const bodies = clients.flatMap((client) => client.bodies).join("\n");
      assert.ok(secrets.every((secret) => typeof secret === "string" && secret.length >= 16), "every collected secret is a real value");
      for (const secret of new Set(secrets)) {
        assert.ok(!log.includes(secret), `a secret reached the log (${secret.length} chars)`);
        assert.ok(!stored.includes(secret), `a secret is stored in plaintext (${secret.length} chars)`);
      }
      for (const secret of new Set(secrets)) assert.ok(!bodies.includes(secret), `a secret was echoed in a response (${secret.length} chars)`);
      assert.ok(!stored.includes(alice.email), "e-mail addresses stay sealed");
    });

    it("the OpenAPI description covers the OIDC routes", async () => {
      const document = (await browser().get("/v1/openapi.json")).json() as { paths: Record<string, Record<string, unknown>> };
      for (const [path, method] of [
        ["/v1/auth/oidc/providers", "get"], ["/v1/auth/oidc/{providerId}/start", "get"], ["/v1/auth/oidc/{providerId}/callback", "get"],
        ["/v1/tenants/{tenantId}/oidc", "get"], ["/v1/tenants/{tenantId}/oidc", "put"],
      ] as const) {
        assert.ok(document.paths[path]?.[method], `${method} ${path} is described`);
      }
    });
  });
}
