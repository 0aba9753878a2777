// The documents pages in Debian's Chromium over HTTPS, under the server's strict CSP: a PDF uploaded
// with a progress bar that reaches 100%, previewed by PDF.js (its worker served from the app), a new
// version and a restore, rights given to a member, a share link opened in a fresh browser context
// with its PIN and the same bytes downloaded, a wiki page whose Markdown preview shows a typed
// <script> as text (and never runs it), an edit conflict with its reload, trash and search; no CSP
// violation, in the page or in the PDF worker, and no uncaught error.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Download, Page } from "playwright-core";
import { buildApp } from "../../src/http/app.ts";
import { createAuthenticator } from "../../src/http/authenticate.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { indexStoredDocument } from "../../src/modules/search/search-index.ts";
import { registerSearchRoutes } from "../../src/modules/search/search-routes.ts";
import { registerSharingRoutes } from "../../src/modules/sharing/sharing-routes.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import type { BlobStore } from "../../src/store/blob-store.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { browserSkipReason, buildWebApp, launchChromium, watchPage, type PageWatch } from "../support/browser.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { codeIn, startMailServer, tokenIn, type MailServer } from "../support/mail-server.ts";
import { WebClient } from "../support/web-client.ts";

type Person = { email: string; password: string; name: string };
const alice: Person = { email: "alice@browser-docs.example", password: "alice previews her contracts 1", name: "Alice Archivist" };
const bob: Person = { email: "bob@browser-docs.example", password: "bob reads what he is given 2", name: "Bob Reader" };
const maxUploadBytes = 8 * 1024 * 1024;

// A small valid PDF, written by hand: two pages of Helvetica text and a filled bar, plus an unused
// stream of random bytes so that the upload takes more than one progress event.
function makePdf(lines: string[], paddingBytes: number): Buffer {
  const escape = (text: string) => text.replace(/[\\()]/g, (char) => `\\${char}`);
  const pageContent = (heading: string) => Buffer.from([
    "0.12 0.23 0.37 rg 72 560 468 24 re f",
    "BT /F1 22 Tf 0 0 0 rg 72 700 Td", `(${escape(heading)}) Tj`,
    ...lines.map((line) => `0 -30 Td (${escape(line)}) Tj`), "ET",
  ].join("\n"));
  const stream = (body: Buffer) => Buffer.concat([Buffer.from(`<< /Length ${body.length} >>\nstream\n`), body, Buffer.from("\nendstream")]);
  const objects: Buffer[] = [
    Buffer.from("<< /Type /Catalog /Pages 2 0 R >>"),
    Buffer.from("<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>"),
    Buffer.from("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 6 0 R >>"),
    Buffer.from("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
    Buffer.from("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 7 0 R >>"),
    stream(pageContent("Strongroom test contract")),
    stream(pageContent("Page two")),
    stream(randomBytes(paddingBytes)),
  ];
  const parts: Buffer[] = [Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1")];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    const object = Buffer.concat([Buffer.from(`${index + 1} 0 obj\n`), body, Buffer.from("\nendobj\n")]);
    offsets.push(offset);
    parts.push(object);
    offset += object.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n`, "0000000000 65535 f \n", ...offsets.map((at) => `${String(at).padStart(10, "0")} 00000 n \n`)].join("");
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`));
  return Buffer.concat(parts);
}

async function bytesOf(download: Download): Promise<Buffer> {
  const path = await download.path();
  return readFile(path);
}

describe("documents in Chromium", { skip: await browserSkipReason() }, () => {
  let test: TestDatabase;
  let dir: string;
  let shots: string;
  let mail: MailServer;
  let identity: IdentityDeps;
  let blobStore: BlobStore;
  let app: FastifyInstance;
  let base: string;
  let ca: Buffer;
  let browser: Browser;
  let page: Page;
  let api: WebClient;
  let tenantId: string;
  let bobId: string;
  let bobApi: WebClient;
  // Share links and search, registered here until the server wires them itself.
  let searchWired: boolean;
  const contexts: BrowserContext[] = [];
  const watches: PageWatch[] = [];
  const workerProblems: string[] = [];
  const workerUrls: string[] = [];
  const pdf = makePdf(["Signed copy for the browser test.", "Clause 1: previews stay inside the app."], 2 * 1024 * 1024);
  const pdfV2 = makePdf(["Second version of the contract."], 64 * 1024);
  let documentUrl: string;
  let shareLink: string | undefined;

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    contexts.push(context);
    const opened = await context.newPage();
    opened.setDefaultTimeout(15_000);
    watches.push(await watchPage(opened));
    // PDF.js runs in a worker: what the CSP refuses there is reported on the worker's console.
    opened.on("worker", (worker) => {
      workerUrls.push(worker.url());
      worker.on("console", (message) => {
        if (/Content Security Policy|Refused|error/i.test(message.text())) workerProblems.push(message.text());
      });
    });
    return opened;
  }

  const shot = (target: Page, name: string) => target.screenshot({ path: join(shots, `documents-${name}.png`), fullPage: true });

  async function signIn(person: Person): Promise<WebClient> {
    const client = new WebClient(base, ca);
    const since = mail.received.length;
    const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
    assert.equal(login.status, 202, login.text);
    const verified = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(person.email, since)) });
    assert.equal(verified.status, 200, verified.text);
    return client;
  }

  before(async () => {
    test = await openTestDatabase("sqlite");
    dir = await mkdtemp(join(tmpdir(), "sr-browser-docs-"));
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
    identity = createIdentityDeps({ db, vault, messages, publicUrl: "https://localhost" });
    blobStore = createFileBlobStore(join(dir, "blobs"));
    app = await buildApp({
      vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test",
      identity, audit: createAuditTrail({ db, vault, log }), documents: { blobStore, maxUploadBytes }, web: { distDir },
    });
    const sharingDeps = { db, vault, blobStore, messages, publicUrl: identity.publicUrl };
    if (!app.hasRoute({ method: "GET", url: "/v1/shared/:token" })) await registerSharingRoutes(app, sharingDeps, createAuthenticator(identity));
    searchWired = app.hasRoute({ method: "GET", url: "/v1/tenants/:tenantId/search" });
    if (!searchWired) await registerSearchRoutes(app, { db, vault }, createAuthenticator(identity));
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `https://localhost:${(app.server.address() as { port: number }).port}`;
    // Links in e-mails and share links point at this server.
    identity.publicUrl = base;
    sharingDeps.publicUrl = base;

    const signUpSince = mail.received.length;
    await new WebClient(base, ca).post("/v1/auth/signup", { companyName: "Archive Co", ...alice });
    await new WebClient(base, ca).post("/v1/auth/verify-email", { token: tokenIn(await mail.next(alice.email, signUpSince)) });
    api = await signIn(alice);
    tenantId = (await api.get("/v1/auth/session")).json().tenants[0].id;
    const inviteSince = mail.received.length;
    assert.equal((await api.post(`/v1/tenants/${tenantId}/invitations`, { email: bob.email, role: "member" })).status, 201);
    await new WebClient(base, ca).post("/v1/invitations/accept", { token: tokenIn(await mail.next(bob.email, inviteSince)), name: bob.name, password: bob.password });
    bobApi = await signIn(bob);
    bobId = (await bobApi.get("/v1/auth/session")).json().user.id;

    page = await newPage();
    await page.goto(`${base}/login`);
    const since = mail.received.length;
    await page.getByLabel("E-mail").fill(alice.email);
    await page.getByLabel("Password").fill(alice.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Check it is you" }).waitFor();
    await page.getByLabel("Sign-in code").fill(codeIn(await mail.next(alice.email, since)));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: /^Welcome/ }).waitFor();
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

  it("a folder, then a PDF uploaded into it with a progress bar that reaches 100%", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Documents" }).click();
    await page.getByRole("heading", { name: "Documents" }).waitFor();
    await page.getByText("Nothing here yet").waitFor();
    await page.getByRole("button", { name: "New folder" }).click();
    const dialog = page.getByRole("dialog", { name: "New folder" });
    await dialog.getByLabel("Folder name").fill("Contracts");
    await dialog.getByRole("button", { name: "Create folder" }).click();
    await page.getByRole("heading", { name: "Contracts" }).waitFor();
    await page.getByRole("navigation", { name: "Breadcrumbs" }).getByRole("link", { name: "Documents" }).waitFor();

    // Every value the bar shows is recorded, from the moment it appears.
    await page.evaluate(`(() => {
      window.__progress = [];
      const record = () => { for (const bar of document.querySelectorAll("progress.upload-bar")) window.__progress.push(bar.value); };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["value"] });
    })()`);
    const sent = page.waitForRequest((request) => request.method() === "PUT" && request.url().includes("/content?baseVersion=0"));
    await page.getByLabel("Upload files").setInputFiles({ name: "contract.pdf", mimeType: "application/pdf", buffer: pdf });
    const request = await sent;
    assert.equal(request.headers()["content-type"], "application/octet-stream");
    assert.equal(request.headers()["x-content-type"], "application/pdf");
    assert.equal(request.headers()["x-filename"], "contract.pdf");
    const uploads = page.getByRole("region", { name: "Uploads" });
    await uploads.getByText("100% · uploaded").waitFor();
    const bar = uploads.getByRole("progressbar", { name: "Upload of contract.pdf" });
    assert.equal(await bar.getAttribute("value"), "100");
    const seen = await page.evaluate("window.__progress") as number[];
    assert.ok(seen.length >= 1 && seen.at(-1) === 100, `the bar showed ${seen.join(", ")}`);
    assert.deepEqual(seen, [...seen].sort((x, y) => x - y), "the bar only moves forward");
    const listed = page.getByRole("list", { name: "Folder contents" }).getByRole("listitem").filter({ hasText: "contract.pdf" });
    await listed.getByText(/PDF · 2\.\d MB · version 1/).waitFor();
    await shot(page, "01-uploaded");
  });

  it("previews the PDF with PDF.js on a canvas, page by page, and downloads exactly the bytes", async () => {
    await page.getByRole("link", { name: "contract.pdf" }).click();
    await page.getByRole("heading", { name: "contract.pdf" }).waitFor();
    documentUrl = page.url();
    await page.getByText("Page 1 of 2").waitFor();
    await page.getByRole("img", { name: "Page 1 of contract.pdf" }).and(page.locator("[data-rendered-page='1']")).waitFor();
    // How much of the drawn page is ink: the text and the bar, not a blank canvas.
    const inked = () => page.evaluate(`(() => {
      const canvas = document.querySelector("canvas.pdf-page");
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let dark = 0;
      for (let index = 0; index < pixels.length; index += 4) if (pixels[index] < 100 && pixels[index + 3] > 0) dark++;
      return { width: canvas.width, dark };
    })()`) as Promise<{ width: number; dark: number }>;
    assert.ok(workerUrls.some((url) => url.startsWith(`${base}/assets/pdf.worker`)), `PDF.js runs in its worker, served by the app: ${workerUrls.join(", ")}`);
    const first = await inked();
    assert.ok(first.width > 300 && first.dark > 1000, `page 1 is drawn: ${JSON.stringify(first)}`);
    await shot(page, "02-pdf-preview");
    await page.getByRole("button", { name: "Next page" }).click();
    await page.locator("canvas[data-rendered-page='2']").waitFor();
    await page.getByText("Page 2 of 2").waitFor();

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download", exact: true }).click()]);
    assert.equal(download.suggestedFilename(), "contract.pdf");
    assert.ok((await bytesOf(download)).equals(pdf));
  });

  it("a new version shows in the history, and restoring version 1 makes it current again, byte for byte", async () => {
    await page.getByLabel("Upload a new version").setInputFiles({ name: "contract-v2.pdf", mimeType: "application/pdf", buffer: pdfV2 });
    const versions = page.getByRole("list", { name: "Versions" });
    const current = (version: number) => versions.getByRole("listitem").filter({ hasText: `Version ${version}` }).getByText("current", { exact: true });
    await current(2).waitFor();
    await page.getByRole("region", { name: "Uploads" }).getByText("100% · uploaded").waitFor();
    const v1 = versions.getByRole("listitem").filter({ hasText: "Version 1" });
    await v1.getByRole("button", { name: "Restore" }).click();
    await v1.getByRole("button", { name: "Yes" }).click();
    await current(3).waitFor();
    assert.equal(await versions.getByRole("listitem").count(), 3);
    await shot(page, "03-versions");
    const restored = await api.get(`/v1/tenants/${tenantId}/documents/${documentUrl.split("/").at(-1)}/content`);
    assert.ok(restored.bytes.equals(pdf), "version 3 is version 1's bytes");
  });

  it("gives a member view rights on the folder through the rights dialog", async () => {
    const root = (await bobApi.get(`/v1/tenants/${tenantId}/folders/root`)).json();
    assert.equal(root.folders.length, 0, "Bob sees nothing before the grant");
    await page.getByRole("navigation", { name: "Breadcrumbs" }).getByRole("link", { name: "Contracts" }).click();
    await page.getByRole("heading", { name: "Contracts" }).waitFor();
    await page.getByRole("button", { name: "Rights on Contracts" }).click();
    const dialog = page.getByRole("dialog", { name: "Rights on “Contracts”" });
    await dialog.getByText(`${alice.name} <${alice.email}>`, { exact: true }).waitFor();
    await dialog.getByLabel("Person or group").selectOption({ label: `${bob.name} (member)` });
    await dialog.getByLabel("Right", { exact: true }).selectOption("view");
    await dialog.getByRole("button", { name: "Give right" }).click();
    await dialog.getByRole("list", { name: "Rights" }).getByText(`${bob.name} <${bob.email}>`, { exact: true }).waitFor();
    assert.equal(await dialog.getByLabel(`Right of ${bob.name} <${bob.email}>`).inputValue(), "view");
    await shot(page, "04-rights");
    await dialog.getByRole("button", { name: "Close" }).click();
    const after = (await bobApi.get(`/v1/tenants/${tenantId}/folders/root`)).json();
    assert.deepEqual(after.folders.map((folder: { name: string; access: string }) => [folder.name, folder.access]), [["Contracts", "view"]]);
    const grants = (await api.get(`/v1/tenants/${tenantId}/grants?resourceType=folder&resourceId=${after.folders[0].id}`)).json().grants;
    assert.ok(grants.some((grant: { principalId: string; permission: string }) => grant.principalId === bobId && grant.permission === "view"));
  });

  it("shares the PDF with a PIN; a fresh browser unlocks the link with the PIN and downloads the same bytes", async () => {
    await page.goto(documentUrl);
    await page.getByRole("button", { name: "Share contract.pdf" }).click();
    const dialog = page.getByRole("dialog", { name: "Share “contract.pdf”" });
    await dialog.getByText("This document has not been shared.").waitFor();
    await dialog.getByLabel("Link expires after").selectOption({ label: "1 day" });
    assert.equal(await dialog.getByLabel(/Protect with a PIN/).isChecked(), true, "a PIN is the default");
    await dialog.getByRole("button", { name: "Create link" }).click();
    shareLink = (await dialog.getByTestId("new-share-link").textContent()) ?? "";
    const pin = (await dialog.getByTestId("new-share-pin").textContent()) ?? "";
    assert.ok(shareLink.startsWith(`${base}/shared#token=`), shareLink);
    assert.match(pin, /^\d{6}$/);
    const links = dialog.getByRole("list", { name: "Share links" });
    await links.getByText(/expires .* · with PIN · 0 downloads/).waitFor();
    await shot(page, "05-share-dialog");
    await dialog.getByRole("button", { name: "I have saved it" }).click();
    assert.equal(await dialog.getByTestId("new-share-link").count(), 0);
    assert.ok(!(await page.content()).includes(shareLink.split("#token=")[1]!), "the token is not shown again");
    await dialog.getByRole("button", { name: "Close" }).click();

    // Someone else, in a browser that has never signed in.
    const outsider = await newPage();
    await outsider.goto(shareLink);
    await outsider.getByRole("heading", { name: "contract.pdf" }).waitFor();
    assert.equal(new URL(outsider.url()).hash, "", "the token is taken out of the address bar");
    assert.equal(await outsider.getByRole("link", { name: "Download" }).count(), 0, "nothing to download before the PIN");
    await outsider.getByLabel("PIN").fill(pin === "000000" ? "000001" : "000000");
    await outsider.getByRole("button", { name: "Unlock" }).click();
    await outsider.getByRole("alert").filter({ hasText: "Wrong PIN: 4 attempts left." }).waitFor();
    await outsider.getByLabel("PIN").fill(pin);
    await outsider.getByRole("button", { name: "Unlock" }).click();
    await outsider.locator("canvas[data-rendered-page='1']").waitFor();
    await shot(outsider, "06-shared-unlocked");
    const [download] = await Promise.all([outsider.waitForEvent("download"), outsider.getByRole("link", { name: "Download" }).click()]);
    assert.ok((await bytesOf(download)).equals(pdf), "the outsider downloads exactly the shared bytes");
  });

  it("revoking the share link makes it fail at once", async () => {
    assert.ok(shareLink, "a share link was made");
    await page.goto(documentUrl);
    await page.getByRole("button", { name: "Share contract.pdf" }).click();
    const dialog = page.getByRole("dialog", { name: "Share “contract.pdf”" });
    const links = dialog.getByRole("list", { name: "Share links" });
    await links.getByText(/· 2 downloads/).waitFor();
    await links.getByRole("button", { name: "Revoke" }).click();
    await links.getByRole("button", { name: "Yes" }).click();
    await links.getByText("revoked", { exact: true }).waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    const outsider = await newPage();
    await outsider.goto(shareLink);
    await outsider.getByRole("alert").filter({ hasText: /not valid/ }).waitFor();
    assert.equal(await outsider.getByRole("link", { name: "Download" }).count(), 0);
    await shot(outsider, "07-shared-revoked");
  });

  it("a wiki page: Markdown with a live preview where a typed <script> is text and never runs; saved as a new version", async () => {
    await page.goto(`${base}/documents`);
    await page.getByRole("button", { name: "New page" }).click();
    const dialog = page.getByRole("dialog", { name: "New page" });
    await dialog.getByLabel("Page title").fill("Handbook");
    await dialog.getByRole("button", { name: "Create page" }).click();
    await page.getByRole("heading", { name: "Handbook" }).first().waitFor();
    const editor = page.getByLabel("Markdown");
    assert.equal(await editor.inputValue(), "# Handbook\n\n");
    const markdown = [
      "# Handbook", "",
      "Welcome to **the archive**.", "",
      "<script>window.__pagePwned = 1</script>", "",
      '<img src="x" onerror="window.__pagePwned = 2">', "",
      "[a bad link](javascript:window.__pagePwned=3) and [a good one](https://example.com/policy) and [the contract](/documents/abc123)",
    ].join("\n");
    await editor.fill(markdown);
    const preview = page.getByTestId("page-preview");
    await preview.getByText("the archive").waitFor();
    assert.equal(await preview.locator("strong").textContent(), "the archive");
    await preview.getByText("<script>window.__pagePwned = 1</script>").waitFor();
    assert.equal(await preview.locator("script, img, [onerror]").count(), 0, "raw HTML is shown as text, not made into elements");
    assert.equal(await preview.locator("a").count(), 2, "the javascript: link is not a link");
    assert.equal(await preview.getByRole("link", { name: "a good one" }).getAttribute("rel"), "noopener noreferrer nofollow");
    assert.equal(await preview.getByRole("link", { name: "the contract" }).getAttribute("href"), "/documents/abc123");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved as version 2.").waitFor();
    assert.equal(await page.evaluate("window.__pagePwned"), undefined, "nothing typed in the page ran");
    await shot(page, "08-page-editor");
  });

  it("an edit based on an old version is refused with a clear message, and the latest version can be loaded", async () => {
    const pageId = page.url().split("/").at(-1)!;
    const elsewhere = await api.request("PUT", `/v1/tenants/${tenantId}/pages/${pageId}`, { text: "# Handbook\n\nEdited elsewhere.", baseVersion: 2 });
    assert.equal(elsewhere.status, 200, elsewhere.text);
    await page.getByLabel("Markdown").fill("# Handbook\n\nMy own edit.");
    await page.getByRole("button", { name: "Save" }).click();
    const conflict = page.getByRole("alert").filter({ hasText: "Someone else saved this page while you were editing it." });
    await conflict.waitFor();
    await shot(page, "09-conflict");
    await conflict.getByRole("button", { name: "Load the latest version" }).click();
    await page.getByTestId("page-preview").getByText("Edited elsewhere.").waitFor();
    assert.equal(await page.getByLabel("Markdown").inputValue(), "# Handbook\n\nEdited elsewhere.");
    assert.equal(await page.getByLabel(/Your unsaved text/).inputValue(), "# Handbook\n\nMy own edit.");
    const saved = (await api.get(`/v1/tenants/${tenantId}/pages/${pageId}`)).json();
    assert.deepEqual([saved.version, saved.text], [3, "# Handbook\n\nEdited elsewhere."], "the stale edit changed nothing");
  });

  it("moves a document to the trash and restores it from the trash page", async () => {
    await page.goto(documentUrl);
    await page.getByRole("button", { name: "Move to trash" }).click();
    await page.getByRole("button", { name: "Yes" }).click();
    await page.getByRole("heading", { name: "Contracts" }).waitFor();
    await page.getByText("Nothing here yet").waitFor();
    await page.getByRole("link", { name: "Trash" }).click();
    const trash = page.getByRole("list", { name: "Trash" });
    const item = trash.getByRole("listitem").filter({ hasText: "contract.pdf" });
    await item.waitFor();
    await shot(page, "10-trash");
    await item.getByRole("button", { name: "Restore" }).click();
    await page.getByText("“contract.pdf” is back in its folder.").waitFor();
    await page.getByText("The trash is empty.").waitFor();
    assert.equal((await api.get(new URL(documentUrl).pathname.replace("/documents/", `/v1/tenants/${tenantId}/documents/`))).status, 200);
  });

  it("searches titles and page text, showing only what the caller may see", async () => {
    const pageId = (await api.get(`/v1/tenants/${tenantId}/folders/root`)).json().documents.find((item: { title: string }) => item.title === "Handbook").id;
    if (!searchWired) await indexStoredDocument({ db: test.database.db, vault: identity.vault, blobStore }, tenantId, pageId);
    await page.goto(`${base}/documents`);
    await page.getByRole("searchbox", { name: "Search documents" }).fill("elsewhere");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("heading", { name: "Search: elsewhere" }).waitFor();
    const results = page.getByRole("list", { name: "Search results" });
    await results.getByRole("link", { name: "Handbook" }).waitFor();
    assert.equal(await results.getByRole("listitem").count(), 1);
    // Bob was given the Contracts folder only: the page at the root is not his to find.
    assert.deepEqual((await bobApi.get(`/v1/tenants/${tenantId}/search?q=elsewhere`)).json().results, []);
    await shot(page, "11-search");
    await results.getByRole("link", { name: "Handbook" }).click();
    await page.getByLabel("Markdown").waitFor();
  });

  it("on a phone-sized screen the folder, the document and the page editor fit the width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const fits = async () => page.evaluate("document.documentElement.scrollWidth <= window.innerWidth") as Promise<boolean>;
    await page.goto(`${base}/documents`);
    await page.getByRole("list", { name: "Folder contents" }).getByRole("link", { name: "Handbook" }).waitFor();
    assert.equal(await fits(), true, "the folder fits");
    await shot(page, "12-phone-folder");
    await page.goto(documentUrl);
    await page.locator("canvas[data-rendered-page='1']").waitFor();
    assert.equal(await fits(), true, "the document and its preview fit");
    await page.getByRole("navigation", { name: "Breadcrumbs" }).getByRole("link", { name: "Documents" }).click();
    await page.getByRole("link", { name: "Handbook" }).click();
    await page.getByLabel("Markdown").waitFor();
    assert.equal(await fits(), true, "the editor fits");
    await shot(page, "13-phone-editor");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("no page, and no PDF worker, reported a CSP violation or an uncaught error", () => {
    for (const watch of watches) {
      assert.deepEqual(watch.cspViolations, []);
      assert.deepEqual(watch.cspConsoleMessages, []);
      assert.deepEqual(watch.pageErrors, []);
    }
    assert.deepEqual(workerProblems, []);
  });
});
