// The web app in Debian's Chromium over HTTPS, with mail delivered to a real SMTP server: sign-up,
// the e-mailed confirmation link, sign-in from a new device with the e-mailed code, the dashboard,
// company administration, an invitation accepted by a new person and one by a signed-in person,
// switching companies, password reset, sessions, revocation and sign-out, and a phone-sized
// screen; all under the server's strict CSP, with no violation or uncaught error reported.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { browserSkipReason, buildWebApp, launchChromium, watchPage, type PageWatch } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { codeIn, startMailServer, tokenIn, type MailServer, type ReceivedMail } from "../support/mail-server.ts";
import { WebClient } from "../support/web-client.ts";

const alice = { company: "Company A", name: "Alice Example", email: "alice@a.example", password: "correct horse battery staple A1" };
const bob = { name: "Bob Builder", email: "bob@a.example", password: "bob's long and unusual passphrase" };

function linkIn(mail: ReceivedMail, page: string): string {
  const match = new RegExp(`(https://\\S+/${page}#token=[A-Za-z0-9_-]{20,})`).exec(mail.text);
  if (!match) throw new Error(`no ${page} link in the message`);
  return match[1]!;
}

describe("web app in Chromium", { skip: await browserSkipReason() }, () => {
  let test: TestDatabase;
  let dir: string;
  let shots: string;
  let mail: MailServer;
  let app: FastifyInstance;
  let identity: IdentityDeps;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const watches: PageWatch[] = [];
  let alicePage: Page;
  let bobPage: Page;
  let ca: Buffer;

  async function newPage(options: { viewport?: { width: number; height: number }; isMobile?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: options.viewport ?? { width: 1280, height: 860 }, isMobile: options.isMobile, hasTouch: options.isMobile });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watches.push(await watchPage(page));
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  async function signInWithCode(page: Page, person: { email: string; password: string }): Promise<void> {
    await page.goto(`${base}/login`);
    const since = mail.received.length;
    await page.getByLabel("E-mail").fill(person.email);
    await page.getByLabel("Password").fill(person.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Check it is you" }).waitFor();
    await page.getByLabel("Sign-in code").fill(codeIn(await mail.next(person.email, since)));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: /^Welcome/ }).waitFor();
  }

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-browser-"));
    shots = process.env.STRONGROOM_SCREENSHOTS_DIR ?? join(dir, "screenshots");
    const distDir = join(dir, "dist");
    const [launched, built] = await Promise.allSettled([launchChromium(), buildWebApp(distDir)]);
    if (launched.status === "fulfilled") browser = launched.value;
    for (const step of [launched, built]) if (step.status === "rejected") throw step.reason;
    mail = await startMailServer();
    const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
    ca = await readFile(certificate.certFile);
    const vault = createVault(createVaultRepository(test.database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    identity = createIdentityDeps({
      db: test.database.db,
      vault,
      messages: createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "strongroom@test.example" }),
      publicUrl: "https://localhost",
    });
    app = await buildApp({
      vault, logger: createLogger({ level: "warn" }), certificate, bodyLimitBytes: 64 * 1024,
      trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test", identity, web: { distDir },
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `https://localhost:${(app.server.address() as { port: number }).port}`;
    // Links in the e-mails point at this server.
    identity.publicUrl = base;
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    await mail?.close();
    await test?.cleanup();
    // The screenshots stay only where STRONGROOM_SCREENSHOTS_DIR says.
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the app under the strict CSP, and a signed-out visitor lands on the sign-in page", async () => {
    const page = await newPage();
    const response = await page.goto(`${base}/`);
    const headers = response!.headers();
    assert.match(headers["content-security-policy"]!, /default-src 'self'; script-src 'self'; style-src 'self';/);
    assert.equal(headers["cache-control"], "no-store");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.equal(await page.title(), "Sign in · Strongroom");
  });

  it("sign-up → the e-mailed link → sign-in from a new device with the e-mailed code → the dashboard shows the company", async () => {
    const page = await newPage();
    alicePage = page;
    await page.goto(`${base}/signup`);
    await page.getByLabel("Company name").fill(alice.company);
    await page.getByLabel("Your name").fill(alice.name);
    await page.getByLabel("E-mail").fill(alice.email);
    await page.getByLabel("Password").fill("too short");
    await shot(page, "01-sign-up");
    // The browser's own check stops a short password before it is sent.
    await page.getByRole("button", { name: "Create account" }).click();
    assert.equal(new URL(page.url()).pathname, "/signup");
    // The server's refusal is shown as its message.
    await page.getByLabel("Password").fill("password1234");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("alert").filter({ hasText: "This password is too common" }).waitFor();

    const since = mail.received.length;
    await page.getByLabel("Password").fill(alice.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Check your e-mail" }).waitFor();
    await shot(page, "02-check-email");

    const link = linkIn(await mail.next(alice.email, since), "verify-email");
    assert.ok(link.startsWith(`${base}/verify-email#token=`));
    await page.goto(link);
    await page.getByText("Your e-mail address is confirmed").waitFor();
    assert.equal(new URL(page.url()).hash, "", "the token is taken out of the address bar");
    await shot(page, "03-verified");
    // The link works once; opened again it says so.
    const again = await newPage();
    await again.goto(link);
    await again.getByRole("alert").filter({ hasText: /invalid|expired|used/i }).waitFor();

    await page.getByRole("link", { name: "Sign in" }).first().click();
    const beforeLogin = mail.received.length;
    await page.getByLabel("E-mail").fill(alice.email);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "The e-mail or password is wrong." }).waitFor();
    await page.getByLabel("Password").fill(alice.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Check it is you" }).waitFor();
    await shot(page, "04-device-code");
    const code = codeIn(await mail.next(alice.email, beforeLogin));
    await page.getByLabel("Sign-in code").fill(code === "000000" ? "000001" : "000000");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("alert").filter({ hasText: "The code is wrong (4 attempts left)." }).waitFor();
    await page.getByLabel("Sign-in code").fill(code);
    await page.getByRole("button", { name: "Continue" }).click();

    await page.getByRole("heading", { name: `Welcome, ${alice.name}` }).waitFor();
    const companies = page.getByRole("list", { name: "Companies" });
    await companies.getByText(alice.company).waitFor();
    await companies.getByText("owner", { exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/");
    await shot(page, "05-dashboard");
  });

  it("company admin: invite, an API key shown once then revoked, role change, suspension, a group, the allow-list", async () => {
    const page = alicePage;
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Company" }).click();
    await page.getByRole("heading", { name: alice.company }).waitFor();
    await page.getByRole("list", { name: "Members" }).getByText(`${alice.name} (you)`).waitFor();

    const since = mail.received.length;
    const invite = page.getByRole("form", { name: "Invite" });
    await invite.getByLabel("E-mail").fill(bob.email);
    await invite.getByLabel("Role").selectOption("member");
    await invite.getByRole("button", { name: "Send invitation" }).click();
    await page.getByText(`Invitation sent to ${bob.email}`).waitFor();
    const invitation = linkIn(await mail.next(bob.email, since), "accept-invitation");

    const keyForm = page.getByRole("form", { name: "New API key" });
    await keyForm.getByLabel("Key name").fill("reporting");
    await keyForm.getByRole("button", { name: "Create API key" }).click();
    const key = await page.getByTestId("new-api-key").textContent();
    assert.match(key ?? "", /^srk_[0-9a-f]{24}:[A-Za-z0-9_-]{43}$/);
    await shot(page, "06-company-admin");
    await page.getByRole("button", { name: "I have saved it" }).click();
    assert.equal(await page.getByTestId("new-api-key").count(), 0);
    assert.ok(!(await page.content()).includes(key!.split(":")[1]!), "the secret is not shown again");
    const keys = page.getByRole("list", { name: "API keys" });
    await keys.getByText("reporting").waitFor();
    await keys.getByRole("button", { name: "Revoke" }).click();
    await keys.getByRole("button", { name: "Yes" }).click();
    await keys.getByText("revoked").waitFor();
    const api = await page.request.get(`${base}/v1/tenants/x`, { headers: { authorization: `Basic ${Buffer.from(key!).toString("base64")}` } });
    assert.equal(api.status(), 401, "the revoked key no longer works");

    // Bob is new: the invitation asks for a name and password, then he signs in and sees the company.
    bobPage = await newPage();
    await bobPage.goto(invitation);
    await bobPage.getByRole("button", { name: "Accept the invitation" }).click();
    await bobPage.getByLabel("Your name").fill(bob.name);
    await bobPage.getByLabel("Password").fill(bob.password);
    await bobPage.getByRole("button", { name: "Create account and join" }).click();
    await bobPage.getByText("You have joined the company").waitFor();
    await signInWithCode(bobPage, bob);
    await bobPage.getByRole("list", { name: "Companies" }).getByText("member", { exact: true }).waitFor();

    // Alice sees Bob and makes him a viewer.
    await page.reload();
    const members = page.getByRole("list", { name: "Members" });
    await members.getByText(bob.name, { exact: true }).waitFor();
    const changed = page.waitForResponse((response) => response.request().method() === "PATCH");
    await page.getByLabel(`Role of ${bob.name}`).selectOption("viewer");
    assert.equal((await changed).status(), 200);
    await page.reload();
    assert.equal(await page.getByLabel(`Role of ${bob.name}`).inputValue(), "viewer");

    // Suspended, then active again.
    const bobRow = members.getByRole("listitem").filter({ hasText: bob.email });
    await bobRow.getByRole("button", { name: "Suspend" }).click();
    await bobRow.getByText("suspended", { exact: true }).waitFor();
    await bobRow.getByRole("button", { name: "Reactivate" }).click();
    await bobRow.getByRole("button", { name: "Suspend" }).waitFor();

    // A group with Bob in it.
    const groupForm = page.getByRole("form", { name: "New group" });
    await groupForm.getByLabel("Group name").fill("Finance");
    await groupForm.getByRole("button", { name: "Create group" }).click();
    const groups = page.getByRole("list", { name: "Groups" });
    const finance = groups.getByRole("listitem").filter({ hasText: "Finance" });
    await finance.getByLabel("Add a member").selectOption({ label: bob.name });
    await finance.getByRole("button", { name: "Add" }).click();
    await finance.getByText(bob.name, { exact: true }).waitFor();

    // The allow-list refuses a list that would lock Alice out, and says why.
    const allowlist = page.getByRole("form", { name: "Allowed addresses" });
    await allowlist.getByLabel("Address ranges").fill("203.0.113.0/24");
    await allowlist.getByRole("button", { name: "Save list" }).click();
    await allowlist.getByRole("alert").filter({ hasText: "you would lock yourself out" }).waitFor();
    await allowlist.getByLabel("Address ranges").fill("127.0.0.0/8\n203.0.113.0/24");
    await allowlist.getByRole("button", { name: "Save list" }).click();
    await page.getByText("Only 2 listed address range(s)").waitFor();
    await allowlist.getByLabel("Address ranges").fill("");
    await allowlist.getByRole("button", { name: "Save list" }).click();
    await page.getByText("Any address may reach").waitFor();
    await shot(page, "07-company-admin-after");
  });

  it("password reset: the e-mailed link, a mismatch caught in the page, the new password works", async () => {
    const page = bobPage;
    const newPassword = "bob picked a fresh long passphrase 9";
    const since = mail.received.length;
    await page.goto(`${base}/reset-password`);
    await page.getByLabel("E-mail").fill(bob.email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByText("a reset link is on its way").waitFor();
    await page.goto(linkIn(await mail.next(bob.email, since), "reset-password"));
    await page.getByLabel("New password", { exact: true }).fill(newPassword);
    await page.getByLabel("Repeat the new password").fill("not the same passphrase at all");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("alert").filter({ hasText: "The two passwords differ." }).waitFor();
    await page.getByLabel("Repeat the new password").fill(newPassword);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Your password is changed").waitFor();
    assert.equal((await page.request.get(`${base}/v1/auth/session`)).status(), 401, "every session was signed out");
    await page.getByRole("link", { name: "Sign in" }).last().click();
    await page.getByLabel("E-mail").fill(bob.email);
    await page.getByLabel("Password").fill(newPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: `Welcome, ${bob.name}` }).waitFor();
  });

  it("account: sessions are listed with this browser marked, and signing out ends the session", async () => {
    const page = alicePage;
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
    const sessions = page.getByRole("list", { name: "Sessions" });
    await sessions.getByText("this browser").waitFor();
    await shot(page, "08-account");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal((await page.request.get(`${base}/v1/auth/session`)).status(), 401);
    // The device is remembered: signing in again needs no code.
    await page.getByLabel("E-mail").fill(alice.email);
    await page.getByLabel("Password").fill(alice.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: `Welcome, ${alice.name}` }).waitFor();
  });

  it("a signed-in person accepts an invitation to a second company and switches between them", async () => {
    // Carol runs Company B (set up through the API) and invites Alice as an admin.
    const carol = new WebClient(base, ca);
    const carolEmail = "carol@b.example";
    let since = mail.received.length;
    await carol.post("/v1/auth/signup", { companyName: "Company B", name: "Carol", email: carolEmail, password: "carol keeps company B safe 42" });
    await carol.post("/v1/auth/verify-email", { token: tokenIn(await mail.next(carolEmail, since)) });
    since = mail.received.length;
    const login = await carol.post("/v1/auth/login", { email: carolEmail, password: "carol keeps company B safe 42" });
    await carol.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(carolEmail, since)) });
    const companyB = (await carol.get("/v1/auth/session")).json().tenants[0].id as string;
    since = mail.received.length;
    assert.equal((await carol.post(`/v1/tenants/${companyB}/invitations`, { email: alice.email, role: "admin" })).status, 201);

    const page = alicePage;
    await page.goto(linkIn(await mail.next(alice.email, since), "accept-invitation"));
    await page.getByText(`You are signed in as ${alice.email}`).waitFor();
    await page.getByRole("button", { name: "Accept the invitation" }).click();
    const companies = page.getByRole("list", { name: "Companies" });
    const rowB = companies.getByRole("listitem").filter({ hasText: "Company B" });
    await rowB.getByText("admin", { exact: true }).waitFor();
    await rowB.getByRole("button", { name: "Switch to this company" }).click();
    await rowB.getByText("current", { exact: true }).waitFor();
    await companies.getByRole("listitem").filter({ hasText: alice.company }).getByRole("button", { name: "Switch to this company" }).waitFor();
    await shot(page, "09-two-companies");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Company" }).click();
    await page.getByRole("heading", { name: "Company B" }).waitFor();
  });

  it("fits a phone-sized screen without sideways scrolling", async () => {
    const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await page.goto(`${base}/signup`);
    await page.getByRole("heading", { name: "Create your company" }).waitFor();
    await shot(page, "10-phone-sign-up");
    await signInWithCode(page, alice);
    for (const [path, name] of [["/", "11-phone-dashboard"], ["/company", "12-phone-company"], ["/account", "13-phone-account"]] as const) {
      await page.goto(`${base}${path}`);
      await page.getByRole("heading").first().waitFor();
      await page.waitForLoadState("networkidle");
      await shot(page, name);
      assert.equal(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), true, `${path} scrolls sideways on a phone`);
    }
    // From the phone, Alice signs out her other browser; that browser is sent to the sign-in page.
    const sessions = page.getByRole("list", { name: "Sessions" });
    const others = sessions.getByRole("button", { name: "Revoke" });
    for (let left = await others.count(); left > 0; left--) {
      await others.first().click();
      await sessions.getByRole("button", { name: "Yes" }).click();
      await sessions.getByRole("listitem").nth(left).waitFor({ state: "detached" });
    }
    assert.equal(await sessions.getByRole("listitem").count(), 1);
    await alicePage.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
    await alicePage.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  it("no page reported a CSP violation or an uncaught error, and the detector does see one", async () => {
    for (const watch of watches) {
      assert.deepEqual(watch.cspViolations, []);
      assert.deepEqual(watch.cspConsoleMessages, []);
      assert.deepEqual(watch.pageErrors, []);
    }
    // Control: an inline script and an inline style are refused, and both are reported.
    const page = await newPage();
    const watch = watches.at(-1)!;
    await page.goto(`${base}/login`);
    await page.evaluate(`(() => {
      const script = document.createElement("script"); script.textContent = "window.__inlineRan = true"; document.head.append(script);
      const style = document.createElement("style"); style.textContent = "body { color: red }"; document.head.append(style);
    })()`);
    await page.waitForFunction("true");
    for (let attempt = 0; attempt < 50 && watch.cspViolations.length < 2; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await page.evaluate("window.__inlineRan === true"), false, "the inline script did not run");
    assert.ok(watch.cspViolations.some((violation) => violation.startsWith("script-src")), watch.cspViolations.join("; "));
    assert.ok(watch.cspViolations.some((violation) => violation.startsWith("style-src")), watch.cspViolations.join("; "));
    assert.ok(watch.cspConsoleMessages.length >= 2);
    watches.pop();
  });
});
