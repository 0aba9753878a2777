// Waiting on change notices (src/store/change-notices.ts) in tests of caches across nodes.
import type { ChangeNotice, ChangeNotices } from "../../src/store/change-notices.ts";

/** Resolves with the first notice that matches, or rejects after timeoutMs. */
export function nextNotice(notices: ChangeNotices, matches: (notice: ChangeNotice) => boolean, timeoutMs = 5_000): Promise<ChangeNotice> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { unsubscribe(); reject(new Error("no change notice arrived")); }, timeoutMs);
    const unsubscribe = notices.subscribe((notice) => {
      if (!matches(notice)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(notice);
    });
  });
}

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
