// Signing in Debian's Chromium over HTTPS, under the server's strict CSP: the sender sends a PDF to
// two sequential signers from the document page; each signer opens their link from the mailbox on a
// phone-sized screen (390 px), is refused a wrong PIN, enters the PIN from their mail, sees the PDF,
// draws or types a signature, consents and signs; the second only once the first has; the sender then
// sees the request completed and downloads the signed PDF. Screenshots of each step; no CSP violation
// and no uncaught error.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { browserSkipReason, buildWebApp, launchChromium, watchPage, type PageWatch } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { codeIn, startMailServer, tokenIn, type MailServer, type ReceivedMail } from "../support/mail-server.ts";
import { makeTestPdf } from "../support/sample-pdf.ts";
import { WebClient } from "../support/web-client.ts";

const alice = { email: "alice@browser-sign.example", password: "alice sends it out for signing 1", name: "Alice Sender" };
const first = { name: "Sam First", email: "sam@browser-signers.example" };
const second = { name: "Tess Second", email: "tess@browser-signers.example" };
const phone = { width: 390, height: 844 };

describe("signing in Chromium", { skip: await browserSkipReason() }, () => {
  let test: TestDatabase;
  let dir: string;
  let shots: string;
  let mail: MailServer;
  let app: FastifyInstance;
  let base: string;
  let ca: Buffer;
  let browser: Browser;
  let sender: Page;
  let api: WebClient;
  let tenantId: string;
  let documentId: string;
  const contexts: BrowserContext[] = [];
  const watches: PageWatch[] = [];
  const pdf = makeTestPdf(["Browser signing contract", "Clause 2: signatures are sealed."]);

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, acceptDownloads: true, hasTouch: viewport.width < 500 });
    contexts.push(context);
    const opened = await context.newPage();
    opened.setDefaultTimeout(15_000);
    watches.push(await watchPage(opened));
    return opened;
  }
  const shot = (target: Page, name: string) => target.screenshot({ path: join(shots, `signing-${name}.png`), fullPage: true });

  async function linkAndPin(to: string, since: number): Promise<{ token: string; pin: string }> {
    let mails: ReceivedMail[] = [];
    for (let attempt = 0; attempt < 100 && mails.length < 2; attempt++) {
      mails = mail.received.slice(since).filter((received) => received.to.includes(to));
      if (mails.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const token = tokenIn(mails.find((received) => received.text.includes("#token=")) ?? assert.fail(`no link for ${to}`));
    const pin = /PIN (\d{6})/.exec(mails.find((received) => /PIN \d{6}/.test(received.text))?.text ?? "")?.[1] ?? assert.fail(`no PIN for ${to}`);
    return { token, pin };
  }

  async function signAs(who: string, link: { token: string; pin: string }, how: "draw" | "type"): Promise<Page> {
    const page = await newPage(phone);
    await page.goto(`${base}/sign#token=${link.token}`);
    await page.getByRole("heading", { name: "Sign a document" }).waitFor();
    assert.equal(new URL(page.url()).hash, "", "the token is taken out of the address bar");
    await page.getByText("Browser Sign Co asks you to sign a document").waitFor();
    const wrong = link.pin === "000000" ? "000001" : "000000";
    await page.getByRole("textbox", { name: "PIN" }).fill(wrong);
    await page.getByRole("button", { name: "Open the document" }).click();
    await page.getByRole("alert").filter({ hasText: /wrong PIN: 4 attempts left/i }).waitFor();
    await shot(page, `${who}-1-wrong-pin`);
    await page.getByRole("textbox", { name: "PIN" }).fill(link.pin);
    await page.getByRole("button", { name: "Open the document" }).click();
    await page.getByRole("heading", { name: "Browser contract" }).waitFor();
    await page.locator("canvas.pdf-page[data-rendered-page='1']").waitFor();
    await shot(page, `${who}-2-document`);
    if (how === "draw") {
      await page.getByLabel("Date on page 2").fill("2026-12-03");
      const pad = page.getByTestId("signature-pad");
      await pad.scrollIntoViewIfNeeded();
      const box = (await pad.boundingBox()) ?? assert.fail("no signature pad");
      await page.mouse.move(box.x + 20, box.y + box.height * 0.7);
      await page.mouse.down();
      for (const [dx, dy] of [[60, -50], [110, 10], [170, -40], [230, 0], [300, -30]] as const) await page.mouse.move(box.x + dx, box.y + box.height * 0.7 + dy, { steps: 4 });
      await page.mouse.up();
    } else {
      await page.getByRole("tab", { name: "Type" }).click();
      assert.equal(await page.getByLabel("Your name as your signature").inputValue(), second.name);
    }
    const signButton = page.getByRole("button", { name: "Sign", exact: true });
    assert.equal(await signButton.isDisabled(), true, "no signature before consent");
    await page.getByLabel(/I agree to sign this document electronically/).check();
    await shot(page, `${who}-3-ready`);
    const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
    assert.ok(overflow <= 0, `the signing page fits a phone-sized screen (overflow ${overflow}px)`);
    await signButton.click();
    await page.getByTestId("signing-done").waitFor();
    await shot(page, `${who}-4-done`);
    return page;
  }

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-browser-sign-"));
    shots = process.env.STRONGROOM_SCREENSHOTS_DIR ?? join(dir, "screenshots");
    const distDir = join(dir, "dist");
    const [launched, built] = await Promise.allSettled([launchChromium(), buildWebApp(distDir)]);
    if (launched.status === "fulfilled") browser = launched.value;
    for (const step of [launched, built]) if (step.status === "rejected") throw step.reason;
    mail = await startMailServer();
    const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
    ca = await readFile(certificate.certFile);
    const db = test.database.db;
    const vault = createVault(createVaultRepository(db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    const log = createLogger({ level: "warn" });
    const messages = createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "strongroom@test.example" });
    const identity = createIdentityDeps({ db, vault, messages, publicUrl: "https://localhost" });
    app = await buildApp({
      vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test",
      identity, audit: createAuditTrail({ db, vault, log }), documents: { blobStore: createFileBlobStore(join(dir, "blobs")), maxUploadBytes: 4 * 1024 * 1024 },
      web: { distDir },
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `https://localhost:${(app.server.address() as { port: number }).port}`;
    identity.publicUrl = base;

    const signUpSince = mail.received.length;
    await new WebClient(base, ca).post("/v1/auth/signup", { companyName: "Browser Sign Co", ...alice });
    await new WebClient(base, ca).post("/v1/auth/verify-email", { token: tokenIn(await mail.next(alice.email, signUpSince)) });
    api = new WebClient(base, ca);
    const apiSince = mail.received.length;
    const login = await api.post("/v1/auth/login", { email: alice.email, password: alice.password });
    await api.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(alice.email, apiSince)) });
    tenantId = (await api.get("/v1/auth/session")).json().tenants[0].id;
    documentId = (await api.post(`/v1/tenants/${tenantId}/documents`, { title: "Browser contract" })).json().id;
    const uploaded = await api.request("PUT", `/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=0`, pdf, { "x-content-type": "application/pdf", "x-filename": "contract.pdf" });
    assert.equal(uploaded.status, 201, uploaded.text);

    sender = await newPage();
    await sender.goto(`${base}/login`);
    const since = mail.received.length;
    await sender.getByLabel("E-mail").fill(alice.email);
    await sender.getByLabel("Password").fill(alice.password);
    await sender.getByRole("button", { name: "Sign in" }).click();
    await sender.getByRole("heading", { name: "Check it is you" }).waitFor();
    await sender.getByLabel("Sign-in code").fill(codeIn(await mail.next(alice.email, since)));
    await sender.getByRole("button", { name: "Continue" }).click();
    await sender.getByRole("heading", { name: /^Welcome/ }).waitFor();
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    await mail?.close();
    await test?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("the sender sends the PDF to two sequential signers from the document page", async () => {
    await sender.goto(`${base}/documents/${documentId}`);
    await sender.getByRole("heading", { name: "Browser contract" }).waitFor();
    await sender.getByText("This document has not been sent for signature.").waitFor();
    await sender.getByRole("button", { name: "Send for signature…" }).click();
    const dialog = sender.getByRole("dialog");
    await dialog.getByLabel("Message to the recipients (optional)").fill("Please sign this week.");
    const rows = dialog.getByTestId("recipient-row");
    await rows.nth(0).getByLabel("Name").fill(first.name);
    await rows.nth(0).getByLabel("E-mail").fill(first.email);
    await dialog.getByRole("button", { name: "Add a recipient" }).click();
    await rows.nth(1).getByLabel("Name").fill(second.name);
    await rows.nth(1).getByLabel("E-mail").fill(second.email);
    await dialog.getByRole("button", { name: "Add a field" }).click();
    const field = dialog.getByTestId("field-row").nth(0);
    await field.getByLabel("Kind").selectOption("date");
    await field.getByLabel("Page").fill("2");
    await field.getByLabel("Position").selectOption("bottom left");
    await shot(sender, "sender-1-dialog");
    const since = mail.received.length;
    await dialog.getByRole("button", { name: "Send for signature" }).click();
    await sender.getByTestId("signature-status").filter({ hasText: "sent" }).waitFor();
    await shot(sender, "sender-2-sent");
    const firstLink = await linkAndPin(first.email, since);
    assert.equal(mail.received.slice(since).filter((received) => received.to.includes(second.email)).length, 0, "the second signer waits for the first");

    await signAs("first", firstLink, "draw");
    const placed = (await api.get(`/v1/tenants/${tenantId}/signature-requests?documentId=${documentId}`)).json().signatureRequests[0];
    const fields = (await api.get(`/v1/tenants/${tenantId}/signature-requests/${placed.id}`)).json().fields as { kind: string; page: number; x: number; y: number; filled: boolean }[];
    assert.deepEqual(fields.filter((f) => f.kind === "date").map((f) => [f.page, f.x, f.y, f.filled]), [[1, 72, 72, true]], "the date field placed in the dialog, filled by the first signer");
    const secondLink = await linkAndPin(second.email, since);
    const secondPage = await signAs("second", secondLink, "type");
    assert.match(await secondPage.getByTestId("signing-done").innerText(), /Everyone has signed/);

    await sender.reload();
    await sender.getByTestId("signature-status").filter({ hasText: "completed" }).waitFor();
    await sender.getByRole("button", { name: "Details" }).click();
    await sender.getByText("Evidence (").waitFor();
    await shot(sender, "sender-3-completed");
    const download = sender.waitForEvent("download");
    await sender.getByRole("link", { name: "Signed PDF" }).click();
    const file = await readFile(await (await download).path());
    assert.ok(file.subarray(0, 5).equals(Buffer.from("%PDF-")), "the signed PDF downloads");
  });

  it("an opened link after completion shows nothing of the document", async () => {
    const since = mail.received.length;
    const created = await api.post(`/v1/tenants/${tenantId}/signature-requests`, {
      documentId, order: "parallel", expiresAt: new Date(Date.now() + 86_400_000).toISOString(), send: true, recipients: [{ name: "Late", email: "late@browser-signers.example", role: "signer" }],
    });
    assert.equal(created.status, 201);
    const link = await linkAndPin("late@browser-signers.example", since);
    assert.equal((await api.post(`/v1/tenants/${tenantId}/signature-requests/${created.json().id}/cancel`)).status, 200);
    const page = await newPage(phone);
    await page.goto(`${base}/sign#token=${link.token}`);
    await page.getByRole("alert").filter({ hasText: /not valid/ }).waitFor();
    assert.equal(await page.getByRole("textbox", { name: "PIN" }).count(), 0);
    await shot(page, "dead-link");
  });

  it("a signer declines with a reason on a phone-sized screen; the sender sees it", async () => {
    const since = mail.received.length;
    const created = await api.post(`/v1/tenants/${tenantId}/signature-requests`, {
      documentId, order: "parallel", expiresAt: new Date(Date.now() + 86_400_000).toISOString(), send: true, recipients: [{ name: "Nay Sayer", email: "nay@browser-signers.example", role: "signer" }],
    });
    const link = await linkAndPin("nay@browser-signers.example", since);
    const page = await newPage(phone);
    await page.goto(`${base}/sign#token=${link.token}`);
    await page.getByRole("textbox", { name: "PIN" }).fill(link.pin);
    await page.getByRole("button", { name: "Open the document" }).click();
    await page.getByRole("button", { name: "Decline…" }).click();
    await page.getByLabel("Your reason (the sender sees it)").fill("The start date is wrong.");
    await shot(page, "decline-1-reason");
    await page.getByRole("button", { name: "Decline to sign" }).click();
    await page.getByRole("heading", { name: "You declined" }).waitFor();
    await shot(page, "decline-2-done");
    const detail = (await api.get(`/v1/tenants/${tenantId}/signature-requests/${created.json().id}`)).json();
    assert.deepEqual([detail.status, detail.recipients[0].declineReason], ["declined", "The start date is wrong."]);
  });

  it("an admin adds a signature webhook on the company page, sees its secret once, and removes it", async () => {
    await sender.goto(`${base}/company`);
    const section = sender.locator(".card").filter({ has: sender.getByRole("heading", { name: "Signature webhooks" }) });
    await section.getByText("No webhooks.").waitFor();
    await section.getByLabel("Receiver URL (https)").fill("https://hooks.example.com/strongroom");
    await section.getByRole("button", { name: "Add webhook" }).click();
    const secret = await section.getByTestId("signing-webhook-secret").innerText();
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    await shot(sender, "sender-4-webhook");
    await section.getByRole("button", { name: "I have saved it" }).click();
    assert.equal(await section.getByTestId("signing-webhook-secret").count(), 0);
    assert.ok(!(await section.innerText()).includes(secret), "the secret is not shown again");
    await section.getByRole("button", { name: "Remove" }).click();
    await section.getByRole("button", { name: "Yes" }).click();
    await section.getByText("No webhooks.").waitFor();
  });

  it("no CSP violation and no uncaught error on any page", () => {
    for (const watch of watches) {
      assert.deepEqual(watch.cspViolations, []);
      assert.deepEqual(watch.cspConsoleMessages, []);
      assert.deepEqual(watch.pageErrors, []);
    }
  });
});
