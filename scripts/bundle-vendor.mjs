// Run by `npm install` (the `prepare` script): bundles the two libraries every command loads first,
// kysely (262 ES modules) and zod (95), into one file each under node_modules/.cache. Loaded module by
// module they took ~150 ms of each start of a command or the server (measured); a bundle loads in ~25 ms.
// bin/strongroom.js uses a bundle only when it was made from the version installed now; without the
// bundles (e.g. `npm install --ignore-scripts`) everything runs as published, only slower to start.
// Tests that import the sources directly use the packages as published.
import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { vendorBundles } from "../bin/vendor-bundles.js";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const bundle of vendorBundles(root)) {
  mkdirSync(bundle.dir, { recursive: true });
  const temp = `${bundle.file}.tmp-${process.pid}`;
  await build({
    stdin: { contents: `export * from ${JSON.stringify(bundle.name)};`, resolveDir: root, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    // Smaller text to decode and look up in the compile cache at each start; names are kept, so stack
    // traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "eof",
    outfile: temp,
    logLevel: "warning",
  });
  renameSync(temp, bundle.file);
  process.stdout.write(`bundled ${bundle.name}@${bundle.version} (${readFileSync(bundle.file).length} bytes)\n`);
}
