// The public verification page in Debian's Chromium, under the strict CSP, signed out: a sealed PDF
// chosen there is hashed in the browser and reported sealed with its signers; the same PDF with one
// changed byte, and a PDF never sealed, are reported not sealed. Only the hash leaves the browser.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { sealSignedDocument } from "../../src/modules/seals/seal-signed-document.ts";
import { browserSkipReason, buildWebApp, launchChromium, watchPage } from "../support/browser.ts";
import { makePdf, sealInputFor } from "../support/pdfs.ts";
import { startTestApp, type TestApp } from "../support/signed-in-app.ts";

describe("verification page in the browser", { skip: await browserSkipReason() }, () => {
  let t: TestApp;
  let browser: Browser;
  let dist: string;
  let files: { sealed: string; tampered: string; original: string };
  const bodies: string[] = [];

  before(async () => {
    dist = await mkdtemp(join(tmpdir(), "sr-verify-web-"));
    await buildWebApp(dist);
    t = await startTestApp("sqlite", async () => ({ web: { distDir: dist } }));
    const original = await makePdf(2);
    const { finalPdf } = await sealSignedDocument({ db: t.test.database.db, vault: t.vault }, sealInputFor(original));
    const tampered = Buffer.from(finalPdf);
    tampered[1000]! ^= 0x01;
    files = { sealed: join(dist, "sealed.pdf"), tampered: join(dist, "tampered.pdf"), original: join(dist, "original.pdf") };
    await writeFile(files.sealed, finalPdf);
    await writeFile(files.tampered, tampered);
    await writeFile(files.original, original);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await rm(dist, { recursive: true, force: true });
  });

  it("reports sealed, then not sealed for a changed and a never-sealed file, with no CSP violation", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const watch = await watchPage(page);
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/v1/verify") bodies.push(`${request.headers()["content-type"]} ${request.postData()?.length ?? 0}`);
    });
    await page.goto(`${t.base}/verify`);
    const input = page.locator('[data-testid="verify-drop"] input[type="file"]');

    await input.setInputFiles(files.sealed);
    const result = page.locator('[data-testid="verify-result"]');
    await result.and(page.locator('[data-status="sealed"]')).waitFor({ timeout: 20_000 });
    const text = await result.textContent();
    assert.match(text ?? "", /Alice Archer/);
    assert.match(text ?? "", /Carol Checker/);

    await input.setInputFiles(files.tampered);
    await page.locator('[data-testid="verify-result"][data-status="not_sealed"]').waitFor({ timeout: 20_000 });
    await input.setInputFiles(files.original);
    await page.locator('[data-testid="verify-result"][data-status="not_sealed"]').waitFor({ timeout: 20_000 });

    // Each request carried JSON of about 80 bytes: the hash, not the file.
    assert.ok(bodies.length === 3 && bodies.every((body) => /^application\/json \d{2,3}$/.test(body)), bodies.join("; "));
    assert.deepEqual(watch.cspViolations, []);
    assert.deepEqual(watch.pageErrors, []);
    await context.close();
  });
});
