// The data-and-privacy pages in Debian's Chromium, under the server's CSP: a person downloads their
// data from Account → Your data; an owner sees the sub-processors register, sets retention, exports
// the company (a tar that GNU tar lists), is refused erasure with the wrong name and erases the
// company with the right one, then erases their own account; no CSP violation and no uncaught error.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { browserSkipReason, buildWebApp, launchChromium, watchPage, type PageWatch } from "../support/browser.ts";
import { codeIn } from "../support/mail-server.ts";
import { startTestApp, type TestApp } from "../support/signed-in-app.ts";

const run = promisify(execFile);
const olive = { email: "olive@browser-privacy.example", password: "olive reads the small print 5", name: "Olive Owner" };
const subProcessors = [{ name: "Example Storage GmbH", purpose: "object storage for encrypted files", location: "EU (Germany)", dataCategories: ["encrypted files"] }];

describe("data and privacy pages in Chromium", { skip: await browserSkipReason() }, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  let tenantId: string;
  const distDir = join(process.cwd(), "node_modules", ".cache", `sr-privacy-dist-${randomBytes(4).toString("hex")}`);

  before(async () => {
    const [launched, built] = await Promise.allSettled([launchChromium(), buildWebApp(distDir)]);
    if (launched.status === "fulfilled") browser = launched.value;
    for (const step of [launched, built]) if (step.status === "rejected") throw step.reason;
    t = await startTestApp("sqlite", async ({ dir }) => ({
      documents: { blobStore: createFileBlobStore(join(dir, "blobs")), maxUploadBytes: 1024 * 1024 },
      privacy: { subProcessors },
      web: { distDir },
    }));
    const owner = await t.signUp(olive, "Small Print Co");
    tenantId = owner.tenantId;
    const created = await owner.client.post(`/v1/tenants/${tenantId}/documents`, { title: "Terms" });
    await owner.client.request("PUT", `/v1/tenants/${tenantId}/documents/${created.json().id}/content?baseVersion=0`, randomBytes(4000), { "x-content-type": "application/pdf" });

    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watch = await watchPage(page);
    await page.goto(`${t.base}/login`);
    const since = t.mail.received.length;
    await page.getByLabel("E-mail").fill(olive.email);
    await page.getByLabel("Password").fill(olive.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Check it is you" }).waitFor();
    await page.getByLabel("Sign-in code").fill(codeIn(await t.mail.next(olive.email, since)));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("heading", { name: /^Welcome/ }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await t?.close();
    await rm(distDir, { recursive: true, force: true });
  });

  const tarList = async (path: string) => (await run("tar", ["-tf", path])).stdout.trim().split("\n");

  it("Account → Your data downloads the person's archive", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
    await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Your data" }).click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download my data" }).click()]);
    const names = await tarList(await download.path());
    assert.ok(names.includes("profile.json") && names.includes("memberships.json"), names.join(", "));
  });

  it("Company → Data and privacy: sub-processors, retention, export, and erasure only with the exact name", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Company" }).click();
    await page.getByRole("navigation", { name: "Company" }).getByRole("link", { name: "Data and privacy" }).click();
    await page.getByRole("list", { name: "Sub-processors" }).getByText("Example Storage GmbH").waitFor();

    const retention = page.getByRole("form", { name: "Retention" });
    await retention.getByLabel(/Delete documents from the trash/).fill("30");
    await retention.getByRole("button", { name: "Save retention" }).click();
    await page.getByText("Saved.").waitFor();
    assert.deepEqual((await (await t.signIn(olive)).get(`/v1/tenants/${tenantId}/retention`)).json(), { trashDays: 30, auditYears: null });

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export company" }).click()]);
    const names = await tarList(await download.path());
    assert.ok(names.includes("company.json") && names.some((name) => name.startsWith("audit/")), names.join(", "));

    const erase = page.getByRole("form", { name: "Erase the company" });
    await erase.getByLabel(/Type the company's name/).fill("Small Print Company");
    await erase.getByRole("button", { name: "Erase company" }).click();
    await erase.getByText(/exact name/).waitFor();
    assert.ok(await t.test.database.db.selectFrom("tenants").select("id").where("id", "=", tenantId).executeTakeFirst(), "nothing was erased");
    await erase.getByLabel(/Type the company's name/).fill("Small Print Co");
    await erase.getByRole("button", { name: "Erase company" }).click();
    await page.getByRole("heading", { name: "Company erased" }).waitFor();
    assert.equal(await t.test.database.db.selectFrom("tenants").select("id").where("id", "=", tenantId).executeTakeFirst(), undefined);

  });

  it("Account → Your data erases the account once the person owns no company", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
    await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Your data" }).click();
    const erase = page.getByRole("form", { name: "Erase your account" });
    await erase.getByLabel(/Type your e-mail address/).fill(olive.email);
    await erase.getByRole("button", { name: "Erase my account" }).click();
    await page.getByRole("heading", { name: "Account erased" }).waitFor();
    assert.equal(await t.test.database.db.selectFrom("users").select("id").executeTakeFirst(), undefined);

    assert.deepEqual(watch.cspViolations, []);
    assert.deepEqual(watch.cspConsoleMessages, []);
    assert.deepEqual(watch.pageErrors, []);
  });
});
