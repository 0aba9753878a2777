// Runs the benchmark suites (every bench/NAME.ts, or only the names given), writes bench/results/NAME.json
// and prints a table per suite. Usage: npm run bench [-- NAME ...]

import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { formatTable, writeResults, type BenchSuite } from "./support/bench-result.ts";

const benchDir = import.meta.dirname;
const resultsDir = join(benchDir, "results");

const available = (await readdir(benchDir))
  .filter((file) => file.endsWith(".ts") && file !== "run.ts")
  .map((file) => file.slice(0, -".ts".length))
  .sort();
const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench suite(s): ${unknown.join(", ")}; available: ${available.join(", ")}\n`);
  process.exit(1);
}

await mkdir(resultsDir, { recursive: true });
let missed = 0;
for (const suite of requested.length > 0 ? requested : available) {
  process.stdout.write(`\n== bench ${suite}\n`);
  const module = (await import(pathToFileURL(join(benchDir, `${suite}.ts`)).href)) as { default: BenchSuite };
  const results = await module.default();
  const path = await writeResults(resultsDir, suite, results);
  process.stdout.write(`${formatTable(results)}\n`);
  process.stdout.write(`wrote ${path}\n`);
  missed += results.filter((result) => !result.meets).length;
}
process.stdout.write(`${missed === 0 ? "\nall figures meet their targets" : `\n${missed} figure(s) miss their targets`}\n`);
