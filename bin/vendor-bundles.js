// Where the start-up bundles of kysely and zod live (see scripts/bundle-vendor.mjs), and a resolve hook
// that loads them in place of the packages. A bundle's file name carries the package version it was made
// from: after an upgrade without a rebuild, the stale file is simply not used.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** @param {string} root the project directory */
export function vendorBundles(root) {
  const dir = join(root, "node_modules", ".cache", "strongroom-vendor");
  return ["kysely", "zod"].map((name) => {
    const { version } = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8"));
    return { name, version: String(version), dir, file: join(dir, `${name}@${version}.mjs`) };
  });
}

/**
 * Bare `import … from "kysely"` / `"zod"` resolve to their bundles, where current ones exist.
 * @param {string} root
 * @param {typeof import("node:module").registerHooks} registerHooks
 */
export function useVendorBundles(root, registerHooks) {
  /** @type {Map<string, string>} */
  const urls = new Map();
  try {
    for (const bundle of vendorBundles(root)) if (existsSync(bundle.file)) urls.set(bundle.name, pathToFileURL(bundle.file).href);
  } catch {
    return; // a package missing or unreadable: resolve as published, which reports it properly
  }
  if (urls.size === 0) return;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const url = urls.get(specifier);
      if (url !== undefined && context.conditions.includes("import")) return { url, format: "module", shortCircuit: true };
      return nextResolve(specifier, context);
    },
  });
}
