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
  console.error(`unknown bench suite(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(1);
}

await mkdir(resultsDir, { recursive: true });
let missed = 0;
for (const suite of requested.length > 0 ? requested : available) {
  console.log(`\n== bench ${suite}`);
  const module = (await import(pathToFileURL(join(benchDir, `${suite}.ts`)).href)) as { default: BenchSuite };
  const results = await module.default();
  const path = await writeResults(resultsDir, suite, results);
  console.log(formatTable(results));
  console.log(`wrote ${path}`);
  missed += results.filter((result) => !result.meets).length;
}
console.log(missed === 0 ? "\nall figures meet their targets" : `\n${missed} figure(s) miss their targets`);
