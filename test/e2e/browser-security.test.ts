// The web app's security pages in Debian's Chromium over HTTPS, with mail delivered to a real SMTP
// server: an authenticator app set up from the secret shown once (and its QR code), recovery codes
// saved, sign-in from fresh browsers with the app, a recovery code and the e-mailed fallback; a
// passkey added with Chromium's virtual authenticator and used from a fresh browser holding the same
// credential; the company's sign-in rules; the audit log with filters, paging and export; alert
// channels (a signed webhook's secret shown once); the sign-in history; the dev outbox; all under the
// strict CSP with no violation or uncaught error reported.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { access, constants, mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { Secret, TOTP } from "otpauth";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { registerDevOutboxRoute } from "../../src/modules/messages/dev-outbox-route.ts";
import { createOutboxSender } from "../../src/modules/messages/outbox-sender.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createAlertDispatcher, type AlertDispatcher } from "../../src/modules/monitoring/alert-dispatcher.ts";
import { createDetectors } from "../../src/modules/monitoring/detectors.ts";
import { createMetrics } from "../../src/modules/monitoring/metrics.ts";
import { createSecurityEvents } from "../../src/modules/monitoring/security-events.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { browserSkipReason, buildWebApp, launchChromium, watchPage, type PageWatch } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { codeIn, startMailServer, type MailServer, type ReceivedMail } from "../support/mail-server.ts";

const alice = { company: "Secure Co", name: "Alice Example", email: "alice@secure.example", password: "correct horse battery staple A1" };
const alertAddress = "security-team@secure.example";

type Hit = { path: string; headers: IncomingHttpHeaders; body: string };

function linkIn(mail: ReceivedMail, page: string): string {
  const match = new RegExp(`(https://\\S+/${page}#token=[A-Za-z0-9_-]{20,})`).exec(mail.text);
  if (!match) throw new Error(`no ${page} link in the message`);
  return match[1]!;
}

// TOTP codes as an authenticator app computes them, never reusing a time step.
function totpClock(secretBase32: string) {
  const secret = Secret.fromBase32(secretBase32);
  let lastStep = -1;
  const currentStep = () => TOTP.counter({ period: 30 });
  const codeAt = (step: number) => TOTP.generate({ secret, period: 30, timestamp: step * 30_000 });
  return {
    next(): string {
      const step = Math.max(currentStep(), lastStep + 1);
      assert.ok(step <= currentStep() + 1, "the test used more TOTP steps than time allows");
      lastStep = step;
      return codeAt(step);
    },
    wrong(): string {
      const valid = new Set([-1, 0, 1].map((delta) => codeAt(currentStep() + delta)));
      for (let guess = 0; ; guess++) {
        const code = String(guess).padStart(6, "0");
        if (!valid.has(code)) return code;
      }
    },
  };
}

// A real HTTPS webhook receiver that keeps every hit and answers 204.
async function startReceiver(cert: Buffer, key: Buffer): Promise<{ server: Server; port: number; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer({ cert, key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      hits.push({ path: request.url ?? "/", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

// Reads the modules of the QR code the page drew (unit squares "M x y h1v1h-1z" in an SVG path).
async function qrModules(page: Page): Promise<{ size: number; dark: boolean[][] }> {
  const svg = page.getByRole("img", { name: "QR code for your authenticator app" });
  const viewBox = (await svg.getAttribute("viewBox"))!.split(" ").map(Number);
  const path = (await svg.locator("path").getAttribute("d"))!;
  const extent = viewBox[2]!;
  const size = extent - 8;
  const dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  for (const match of path.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) dark[Number(match[2]) - 4]![Number(match[1]) - 4] = true;
  return { size, dark };
}

const zbarimg = "/usr/bin/zbarimg";
const zbarSkip = await access(zbarimg, constants.X_OK).then(() => false as const, () => "zbarimg is not installed (apt-get install zbar-tools)");

describe("web app security pages in Chromium", { skip: await browserSkipReason() }, () => {
  let test: TestDatabase;
  let dir: string;
  let shots: string;
  let mail: MailServer;
  let app: FastifyInstance;
  let identity: IdentityDeps;
  let alerts: AlertDispatcher;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const watches: PageWatch[] = [];
  let clock: ReturnType<typeof totpClock>;
  let totpSecret: string;
  let otpauthUri: string;
  let recoveryCodes: string[] = [];
  // The browser signed in with the authenticator app (then adds the passkey), the one signed in with
  // the e-mailed fallback code (a weak factor), and the one signed in with the passkey.
  let strongPage: Page;
  let weakPage: Page;
  let passkeyPage: Page;
  let tenantId: string;

  async function newPage(options: { phone?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true, viewport: options.phone ? { width: 390, height: 844 } : { width: 1280, height: 900 }, isMobile: options.phone, hasTouch: options.phone,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watches.push(await watchPage(page));
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  // Chromium's virtual authenticator: a platform passkey store with user verification, always present.
  async function addVirtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return { cdp, authenticatorId };
  }

  async function passwordStep(page: Page, password = alice.password): Promise<void> {
    await page.goto(`${base}/login`);
    await page.getByLabel("E-mail").fill(alice.email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  const welcome = (page: Page) => page.getByRole("heading", { name: `Welcome, ${alice.name}` }).waitFor();
  const openSecurity = async (page: Page) => {
    await page.goto(`${base}/account`);
    await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Security" }).click();
    await page.getByRole("heading", { name: "Authenticator app" }).waitFor();
  };

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-browser-security-"));
    shots = process.env.STRONGROOM_SCREENSHOTS_DIR ?? join(dir, "screenshots");
    const distDir = join(dir, "dist");
    const [launched, built] = await Promise.allSettled([launchChromium(), buildWebApp(distDir)]);
    if (launched.status === "fulfilled") browser = launched.value;
    for (const step of [launched, built]) if (step.status === "rejected") throw step.reason;
    mail = await startMailServer();
    const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
    const receiverCertificate = await ensureSelfSignedCertificate(join(dir, "receiver"));
    const receiverCa = await readFile(receiverCertificate.certFile);
    receiver = await startReceiver(receiverCa, await readFile(receiverCertificate.keyFile));
    const db = test.database.db;
    const vault = createVault(createVaultRepository(db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    const log = createLogger({ level: "warn" });
    const events = createSecurityEvents();
    const messages = createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "strongroom@test.example" });
    identity = createIdentityDeps({ db, vault, messages, publicUrl: "https://localhost", events });
    const metrics = createMetrics({ processMetrics: false });
    alerts = createAlertDispatcher({
      db, vault, messages, events, log, metrics, operatorConfig: {},
      trustedCa: receiverCa, allowLoopbackTargets: true, retry: { maxAttempts: 1 }, timeoutMs: 3_000,
    });
    app = await buildApp({
      vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test",
      identity, audit: createAuditTrail({ db, vault, log, events }), web: { distDir },
      monitoring: { metrics, alerts, detectors: createDetectors({ events }) },
      // Offered on the sign-in page; never reached (discovery is refused), since no browser signs in with them here.
      oidc: {
        providers: [
          { id: "google", kind: "google", issuer: "https://accounts.google.com", clientId: "test-client", clientSecret: "test-secret", scopes: "openid email profile" },
          { id: "acme-sso", kind: "generic", issuer: "https://sso.acme.example", clientId: "test-client", clientSecret: "test-secret", scopes: "openid email" },
        ],
        fetch: async () => {
          throw new Error("this test reaches no outside provider");
        },
      },
    });
    // What the lead registers on a dev installation only; this test stands in for one.
    registerDevOutboxRoute(app, { db, vault });
    await createOutboxSender({ db, vault }).send({
      channel: "email", to: "dev@secure.example", purpose: "invitation", subject: "You are invited to Secure Co",
      text: "Accept the invitation:\nhttps://localhost/accept-invitation#token=devoutboxexampletoken0000",
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `https://localhost:${(app.server.address() as AddressInfo).port}`;
    // Links in the e-mails, and the passkeys' relying party and origin, are this server.
    identity.publicUrl = base;
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    alerts?.close();
    await app?.close();
    await new Promise((resolve) => (receiver ? receiver.server.close(resolve) : resolve(undefined)));
    await mail?.close();
    await test?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("sign-up, the e-mailed link and a first sign-in with the e-mailed code; outside providers offered as plain links", async () => {
    const page = await newPage();
    await page.goto(`${base}/signup`);
    await page.getByLabel("Company name").fill(alice.company);
    await page.getByLabel("Your name").fill(alice.name);
    await page.getByLabel("E-mail").fill(alice.email);
    await page.getByLabel("Password").fill(alice.password);
    let since = mail.received.length;
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Check your e-mail" }).waitFor();
    await page.goto(linkIn(await mail.next(alice.email, since), "verify-email"));
    await page.getByText("Your e-mail address is confirmed").waitFor();

    // Each provider is a link to the server's start route: following it is a full page load, and a
    // provider that cannot be reached is reported on a page of its own.
    await page.goto(`${base}/login`);
    const providers = page.getByRole("group", { name: "Sign in with another account" });
    assert.equal(await providers.getByRole("link", { name: "Sign in with Google" }).getAttribute("href"), "/v1/auth/oidc/google/start");
    assert.equal(await providers.getByRole("link", { name: "Sign in with Acme-sso" }).getAttribute("href"), "/v1/auth/oidc/acme-sso/start");
    await shot(page, "00-sign-in");
    await providers.getByRole("link", { name: "Sign in with Google" }).click();
    await page.getByRole("heading", { name: "Sign-in failed" }).waitFor();
    await page.getByText("oidc_provider_unavailable").waitFor();

    since = mail.received.length;
    await passwordStep(page);
    await page.getByRole("heading", { name: "Check it is you" }).waitFor();
    await page.getByLabel("Sign-in code").fill(codeIn(await mail.next(alice.email, since)));
    await page.getByRole("button", { name: "Continue" }).click();
    await welcome(page);
    tenantId = (await (await page.request.get(`${base}/v1/auth/session`)).json()).tenants[0].id;
    strongPage = page;
  });

  it("TOTP: the secret and QR code shown once, a wrong code refused, the recovery codes saved, then sign-out", async () => {
    const page = strongPage;
    await openSecurity(page);
    await page.getByText("Off. With an authenticator app").waitFor();
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    totpSecret = (await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "");
    assert.match(totpSecret, /^[A-Z2-7]{32}$/);
    clock = totpClock(totpSecret);
    const qr = await qrModules(page);
    assert.ok(qr.size >= 21 && (qr.size - 17) % 4 === 0, `a QR code of a valid size (${qr.size})`);
    otpauthUri = `otpauth://totp/Strongroom:${encodeURIComponent(alice.email)}?issuer=Strongroom&secret=${totpSecret}&algorithm=SHA1&digits=6&period=30`;
    assert.equal(await page.getByRole("link", { name: "Open it in the authenticator app" }).getAttribute("href"), otpauthUri);
    await page.getByRole("img", { name: "QR code for your authenticator app" }).screenshot({ path: join(dir, "qr.png") });
    await shot(page, "01-totp-set-up");

    const confirm = page.getByRole("form", { name: "Confirm the authenticator app" });
    await confirm.getByLabel("The 6-digit code the app shows now").fill(clock.wrong());
    await confirm.getByRole("button", { name: "Turn on" }).click();
    await confirm.getByRole("alert").filter({ hasText: "The code is wrong" }).waitFor();
    const since = mail.received.length;
    await confirm.getByLabel("The 6-digit code the app shows now").fill(clock.next());
    await confirm.getByRole("button", { name: "Turn on" }).click();

    const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
    await codes.first().waitFor();
    recoveryCodes = (await codes.allTextContents()).map((code) => code.trim());
    assert.equal(recoveryCodes.length, 10);
    for (const code of recoveryCodes) assert.match(code, /^[0-9a-z]{4}(-[0-9a-z]{4}){6}$/);
    assert.match((await mail.next(alice.email, since)).text, /authenticator app was turned on/);
    // "Done" waits until the person says they saved them.
    const done = page.getByRole("button", { name: "Done" });
    assert.equal(await done.isDisabled(), true);
    await shot(page, "02-recovery-codes");
    await page.getByLabel("I saved these codes somewhere safe").check();
    await done.click();
    await page.getByText("10 of 10 recovery codes left").waitFor();
    const html = await page.content();
    assert.ok(!html.includes(totpSecret) && !html.includes(recoveryCodes[0]!), "neither the secret nor the codes are shown again");
    assert.ok(!JSON.stringify(await (await page.request.get(`${base}/v1/account/second-factors`)).json()).includes(totpSecret));

    await page.goto(`${base}/account`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal((await page.request.get(`${base}/v1/auth/session`)).status(), 401);
  });

  it("the QR code the page drew reads back as the otpauth address (an independent decoder)", { skip: zbarSkip }, async () => {
    const { stdout } = await promisify(execFile)(zbarimg, ["-q", "--raw", join(dir, "qr.png")]);
    assert.equal(stdout.trim(), otpauthUri);
  });

  it("signs in from a fresh browser with the authenticator app, and a wrong code is refused", async () => {
    const page = await newPage();
    await passwordStep(page);
    await page.getByRole("heading", { name: "Confirm it is you" }).waitFor();
    await page.getByRole("tab", { name: "Authenticator app", selected: true }).waitFor();
    await page.getByRole("tab", { name: "Recovery code" }).waitFor();
    await shot(page, "03-second-factor-totp");
    await page.getByLabel("Code from your authenticator app").fill(clock.wrong());
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("alert").filter({ hasText: "The code is wrong" }).waitFor();
    await page.getByLabel("Code from your authenticator app").fill(clock.next());
    await page.getByRole("button", { name: "Continue" }).click();
    await welcome(page);
    strongPage = page;
  });

  it("signs in from a fresh browser with a recovery code, which then counts as used", async () => {
    const page = await newPage();
    await passwordStep(page);
    await page.getByRole("tab", { name: "Recovery code" }).click();
    await page.getByLabel("Recovery code").fill(recoveryCodes[0]!);
    await page.getByRole("button", { name: "Continue" }).click();
    await welcome(page);
    await openSecurity(page);
    await page.getByText("9 of 10 recovery codes left").waitFor();
    // The same code a second time is refused.
    const again = await newPage();
    await passwordStep(again);
    await again.getByRole("tab", { name: "Recovery code" }).click();
    await again.getByLabel("Recovery code").fill(recoveryCodes[0]!);
    await again.getByRole("button", { name: "Continue" }).click();
    await again.getByRole("alert").waitFor();
    assert.equal(await again.getByRole("heading", { name: "Confirm it is you" }).count(), 1);
  });

  it("signs in from a fresh browser with a code sent by e-mail instead", async () => {
    const page = await newPage();
    await passwordStep(page);
    await page.getByRole("button", { name: "Send me a code instead" }).click();
    const since = mail.received.length;
    await page.getByRole("button", { name: "Send a code to your e-mail address" }).click();
    await page.getByText("We sent a 6-digit code to your e-mail address").waitFor();
    await page.getByLabel("Code we sent you").fill(codeIn(await mail.next(alice.email, since)));
    await page.getByRole("button", { name: "Continue" }).click();
    await welcome(page);
    weakPage = page;
  });

  it("passkey: added with the virtual authenticator, then used to sign in from a fresh browser holding the same credential", async () => {
    const page = strongPage;
    const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
    await openSecurity(page);
    await page.getByText("No passkeys yet.").waitFor();
    const since = mail.received.length;
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.getByText("Passkey added.").waitFor();
    const passkeys = page.getByRole("list", { name: "Passkeys" });
    await passkeys.getByText("Passkey on this device").waitFor();
    assert.match((await mail.next(alice.email, since)).text, /A passkey was added/);
    await shot(page, "04-security-page");
    // A second passkey on the same authenticator is refused by the browser (excludeCredentials).
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.getByRole("alert").filter({ hasText: "This device already holds a passkey for your account." }).waitFor();
    assert.equal(await passkeys.getByRole("listitem").count(), 1);

    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1);

    // A fresh browser with the same credential on its own virtual authenticator.
    passkeyPage = await newPage();
    const fresh = await addVirtualAuthenticator(passkeyPage);
    await fresh.cdp.send("WebAuthn.addCredential", { authenticatorId: fresh.authenticatorId, credential: credentials[0]! });
    await passwordStep(passkeyPage);
    await passkeyPage.getByRole("tab", { name: "Passkey", selected: true }).waitFor();
    await shot(passkeyPage, "05-second-factor-passkey");
    await passkeyPage.getByRole("button", { name: "Use a passkey" }).click();
    await welcome(passkeyPage);
    const factors = await (await passkeyPage.request.get(`${base}/v1/account/second-factors`)).json();
    assert.equal(factors.currentSessionSecondFactor, "passkey");
    assert.notEqual(factors.passkeys[0].lastUsedAt, null);
  });

  it("the sign-in history lists each step of each sign-in, refusals included", async () => {
    const page = passkeyPage;
    await openSecurity(page);
    const history = page.getByRole("table", { name: "Sign-in history" });
    for (const step of ["password", "code for a new browser", "authenticator app", "recovery code", "passkey"]) {
      await history.getByRole("cell", { name: step, exact: true }).first().waitFor();
    }
    await history.getByRole("row").filter({ hasText: "authenticator app" }).filter({ hasText: "refused code invalid" }).first().waitFor();
    // A phone number that is not in international form is refused with the server's reason.
    const phone = page.getByRole("form", { name: "Phone number" });
    await phone.getByLabel("Phone number").fill("040 123 4567");
    await phone.getByRole("button", { name: "Send a code" }).click();
    await phone.getByRole("alert").filter({ hasText: "international form" }).waitFor();
    await shot(page, "06-sign-in-history");
  });

  it("company sign-in rules: a strong second factor required for admins, refused to a session without one", async () => {
    const page = passkeyPage;
    // Enough reads of the member list for the audit log to need a second page (next test).
    for (let index = 0; index < 55; index++) assert.equal((await page.request.get(`${base}/v1/tenants/${tenantId}/members`)).status(), 200);
    await page.goto(`${base}/company`);
    const rules = page.getByRole("list", { name: "Sign-in rules" });
    const outside = rules.getByRole("listitem").filter({ hasText: "Sign-in with an outside provider" });
    // Allowed unless a company says otherwise.
    await outside.getByText("allowed", { exact: true }).waitFor();
    await outside.getByRole("button", { name: "Stop allowing" }).click();
    await outside.getByRole("button", { name: "Yes" }).click();
    await outside.getByText("not allowed", { exact: true }).waitFor();
    assert.equal((await (await page.request.get(`${base}/v1/tenants/${tenantId}/oidc`)).json()).oidcAllowed, false);
    await outside.getByRole("button", { name: "Allow" }).click();
    await outside.getByText("allowed", { exact: true }).waitFor();
    await rules.getByRole("button", { name: "Require" }).click();
    await rules.getByText("required", { exact: true }).waitFor();

    // The browser signed in with an e-mailed code may no longer act as an admin.
    await weakPage.goto(`${base}/company`);
    const weakRules = weakPage.getByRole("list", { name: "Sign-in rules" });
    await weakRules.getByRole("button", { name: "Stop requiring" }).click();
    await weakRules.getByRole("button", { name: "Yes" }).click();
    await weakRules.getByRole("alert").filter({ hasText: "requires owners and admins to sign in with TOTP or a passkey" }).waitFor();
    await shot(weakPage, "07-admin-rule-refused");

    await rules.getByRole("button", { name: "Stop requiring" }).click();
    await rules.getByRole("button", { name: "Yes" }).click();
    await rules.getByText("not required", { exact: true }).waitFor();
  });

  it("the company audit log: records, filters, paging with next, and CSV / JSON lines export", async () => {
    const page = passkeyPage;
    await page.goto(`${base}/company`);
    await page.getByRole("navigation", { name: "Company" }).getByRole("link", { name: "Audit log" }).click();
    const table = page.getByRole("table", { name: "Audit records" });
    await table.getByText("PUT /v1/tenants/:tenantId/security").first().waitFor();
    // The refused attempt from the weak session is there, with its error code.
    await table.getByRole("row").filter({ hasText: "PUT /v1/tenants/:tenantId/security" }).filter({ hasText: "second_factor_required" }).waitFor();
    await shot(page, "08-audit-log");

    const filter = page.getByRole("form", { name: "Filter the audit log" });
    await filter.getByLabel("Action").fill("GET /v1/tenants/:tenantId/members");
    await filter.getByLabel("Who").selectOption({ label: alice.name });
    await filter.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("button", { name: "Show older records" }).waitFor();
    const rows = table.locator("tbody tr");
    assert.equal(await rows.count(), 50);
    for (const text of await rows.allTextContents()) assert.ok(text.includes("GET /v1/tenants/:tenantId/members") && text.includes(alice.name), text);
    await page.getByRole("button", { name: "Show older records" }).click();
    await rows.nth(50).waitFor();
    const shown = await rows.count();
    assert.ok(shown >= 56, `paged on to the older records (${shown})`);

    // The export holds what the filter selects, as a download.
    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV" }).click()]);
    const csvLines = (await readFile((await csv.path())!, "utf8")).trim().split("\r\n");
    assert.equal(csvLines[0], "seq,at,actor_type,actor_id,subject_id,ip,action,object,result,status,error_code,details");
    assert.ok(csvLines.length - 1 >= shown);
    for (const line of csvLines.slice(1)) assert.ok(line.includes('"GET /v1/tenants/:tenantId/members"'), line);
    const [jsonl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "JSON lines" }).click()]);
    const records = (await readFile((await jsonl.path())!, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { action: string });
    assert.equal(records.length, csvLines.length - 1);
    assert.ok(records.every((record) => record.action === "GET /v1/tenants/:tenantId/members"));

    // A time range that ends before the company existed selects nothing.
    await filter.getByLabel("Until").fill("2020-01-01T00:00");
    await filter.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No records match.").waitFor();
    await filter.getByRole("button", { name: "Clear" }).click();
    await table.getByText("PUT /v1/tenants/:tenantId/security").first().waitFor();
  });

  it("alert channels: an e-mail channel tested, a webhook's secret shown once and its signed test delivered, then removed", async () => {
    const page = passkeyPage;
    await page.getByRole("navigation", { name: "Company" }).getByRole("link", { name: "Security alerts" }).click();
    await page.getByText("No alert channels yet.").waitFor();
    const form = page.getByRole("form", { name: "New alert channel" });
    await form.getByRole("radio", { name: "e-mail" }).check();
    await form.getByLabel("E-mail address").fill(alertAddress);
    await form.getByRole("button", { name: "Add channel" }).click();
    await page.getByText(`Alerts will be e-mailed to ${alertAddress}.`).waitFor();
    const channels = page.getByRole("list", { name: "Alert channels" });
    const emailRow = channels.getByRole("listitem").filter({ hasText: alertAddress });
    const since = mail.received.length;
    await emailRow.getByRole("button", { name: "Send a test" }).click();
    await emailRow.getByText("test delivered").waitFor();
    await mail.next(alertAddress, since);

    const url = `https://127.0.0.1:${receiver.port}/strongroom`;
    await form.getByRole("radio", { name: /^webhook/ }).check();
    await form.getByLabel("Webhook address").fill(url);
    await form.getByLabel("sign-in from a new device").check();
    await form.getByRole("button", { name: "Add channel" }).click();
    const secret = (await page.getByTestId("new-webhook-secret").textContent())!;
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    await shot(page, "09-alert-channels");
    await page.getByRole("button", { name: "I have saved it" }).click();
    assert.ok(!(await page.content()).includes(secret), "the secret is not shown again");
    const hookRow = channels.getByRole("listitem").filter({ hasText: url });
    await hookRow.getByText("sign-in from a new device").waitFor();
    await hookRow.getByRole("button", { name: "Send a test" }).click();
    await hookRow.getByText("test delivered").waitFor();
    await hookRow.getByText(/last delivery .*delivered, HTTP 204/).waitFor();
    const hit = receiver.hits.find((candidate) => candidate.path === "/strongroom" && candidate.body.includes('"test"'))!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hit.headers["x-strongroom-signature"]))!;
    assert.ok(timingSafeEqual(createHmac("sha256", secret).update(`${t}.${hit.body}`).digest(), Buffer.from(v1!, "hex")), "signed with the secret shown");

    await hookRow.getByRole("button", { name: "Remove" }).click();
    await hookRow.getByRole("button", { name: "Yes" }).click();
    await hookRow.waitFor({ state: "detached" });
    assert.equal(await channels.getByRole("listitem").count(), 1);
  });

  it("turns the authenticator app off with the password and removes the passkey", async () => {
    const page = passkeyPage;
    await openSecurity(page);
    const turnOff = page.getByRole("form", { name: "Turn off the authenticator app" });
    await turnOff.getByLabel("A current code from the app, or your password").fill("not the password at all");
    await turnOff.getByRole("button", { name: "Turn off" }).click();
    await turnOff.getByRole("alert").filter({ hasText: "The password is wrong." }).waitFor();
    await turnOff.getByLabel("A current code from the app, or your password").fill(alice.password);
    await turnOff.getByRole("button", { name: "Turn off" }).click();
    await page.getByText("Two-step sign-in with an authenticator app is off").waitFor();
    await page.getByRole("button", { name: "Set up an authenticator app" }).waitFor();

    const passkeys = page.getByRole("list", { name: "Passkeys" });
    await passkeys.getByRole("button", { name: "Remove" }).click();
    await passkeys.getByRole("button", { name: "Yes" }).click();
    await page.getByText("No passkeys yet.").waitFor();
    const factors = await (await page.request.get(`${base}/v1/account/second-factors`)).json();
    assert.deepEqual([factors.totp.enabled, factors.passkeys.length, factors.recoveryCodesLeft], [false, 0, 0]);
  });

  it("the dev outbox: linked from every page on a dev installation, and lists the kept messages", async () => {
    const page = passkeyPage;
    await page.goto(`${base}/`);
    const link = page.getByRole("contentinfo").getByRole("link", { name: "dev outbox" });
    assert.equal(await link.getAttribute("target"), "_blank");
    await page.goto(`${base}/dev/outbox`);
    const messages = page.getByRole("list", { name: "Messages" });
    const message = messages.getByRole("listitem").filter({ hasText: "You are invited to Secure Co" });
    await message.getByText("to dev@secure.example", { exact: false }).waitFor();
    assert.equal(await message.getByRole("link").getAttribute("href"), "https://localhost/accept-invitation#token=devoutboxexampletoken0000");
    await shot(page, "10-dev-outbox");
  });

  it("the new pages fit a phone-sized screen without sideways scrolling", async () => {
    const page = await newPage({ phone: true });
    const since = mail.received.length;
    await passwordStep(page);
    await page.getByLabel("Sign-in code").fill(codeIn(await mail.next(alice.email, since)));
    await page.getByRole("button", { name: "Continue" }).click();
    await welcome(page);
    for (const [path, name] of [["/account/security", "11-phone-security"], ["/company/audit", "12-phone-audit"], ["/company/alerts", "13-phone-alerts"], ["/dev/outbox", "14-phone-outbox"]] as const) {
      await page.goto(`${base}${path}`);
      await page.getByRole("heading").first().waitFor();
      await page.waitForLoadState("networkidle");
      await shot(page, name);
      assert.equal(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), true, `${path} scrolls sideways on a phone`);
    }
  });

  it("no page reported a CSP violation or an uncaught error", () => {
    for (const watch of watches) {
      assert.deepEqual(watch.cspViolations, []);
      assert.deepEqual(watch.cspConsoleMessages, []);
      assert.deepEqual(watch.pageErrors, []);
    }
  });
});
