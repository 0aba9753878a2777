// Browser tests drive Debian's Chromium (apt-get install chromium) through playwright-core; no
// browser is ever downloaded. Also: building the web app for a test, and watching a page for
// Content-Security-Policy violations and uncaught errors.
//
// Usage:
//   describe("…", { skip: await browserSkipReason() }, () => {
//     before(async () => { browser = await launchChromium(); });
//     const context = await browser.newContext({ ignoreHTTPSErrors: true });
//     const page = await context.newPage(); const watch = await watchPage(page);
//     …; assert.deepEqual(watch.cspViolations, []);
//   });
import { access, constants } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const chromiumPath = process.env.STRONGROOM_CHROMIUM ?? "/usr/bin/chromium";
export const webDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web");

const inCi = process.env.CI === "true";

/** A reason to skip when Chromium is not installed, or false; with CI=true a missing Chromium throws. */
export async function browserSkipReason(): Promise<string | false> {
  const found = await access(chromiumPath, constants.X_OK).then(() => true, () => false);
  if (found) return false;
  if (inCi) throw new Error(`Chromium is not installed at ${chromiumPath} and CI=true: the browser tests must run in CI (apt-get install chromium)`);
  return `Chromium is not installed at ${chromiumPath} (apt-get install chromium, or set STRONGROOM_CHROMIUM)`;
}

/** Headless Chromium with a fresh temporary profile (playwright creates it and deletes it on close). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    timeout: 60_000,
  });
}

/** Builds web/ with its own Vite configuration into outDir (so the test serves what the source says). */
export async function buildWebApp(outDir: string): Promise<void> {
  const { build } = await import("vite");
  await build({
    root: webDir,
    configFile: join(webDir, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir, emptyOutDir: true },
  });
}

export type PageWatch = {
  /** Violations the page reported (securitypolicyviolation events, in every document it loaded). */
  cspViolations: string[];
  /** Console messages about the Content Security Policy. */
  cspConsoleMessages: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
};

// Installed through the DevTools protocol before any page script runs, so the page's own CSP does
// not apply to it; each violation is reported to the test at once, so none is lost on navigation.
const reportViolations = `
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__reportCspViolation(event.effectiveDirective + " blocked " + (event.blockedURI || "inline") + " in " + event.documentURI);
  });
`;

export async function watchPage(page: Page): Promise<PageWatch> {
  const watch: PageWatch = { cspViolations: [], cspConsoleMessages: [], pageErrors: [] };
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(message.text())) watch.cspConsoleMessages.push(message.text());
  });
  page.on("pageerror", (error) => watch.pageErrors.push(error.message));
  await page.exposeFunction("__reportCspViolation", (text: string) => watch.cspViolations.push(String(text)));
  await page.addInitScript({ content: reportViolations });
  return watch;
}
