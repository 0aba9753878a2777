// The shape every bench suite reports, and how run.ts stores and prints it.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** One measured figure next to a reference measured in the same run on the same machine. */
export type BenchResult = {
  name: string;
  value: number;
  unit: string;
  reference: string;
  reference_value: number;
  ratio: number;
  target: string;
  meets: boolean;
};

export type BenchSuite = () => Promise<BenchResult[]>;

export function compareToReference(figure: {
  name: string;
  value: number;
  unit: string;
  reference: string;
  referenceValue: number;
  target: string;
  meets: (value: number, ratio: number) => boolean;
}): BenchResult {
  const ratio = figure.value / figure.referenceValue;
  return {
    name: figure.name,
    value: round(figure.value, 1),
    unit: figure.unit,
    reference: figure.reference,
    reference_value: round(figure.referenceValue, 1),
    ratio: round(ratio, 3),
    target: figure.target,
    meets: figure.meets(figure.value, ratio),
  };
}

export async function writeResults(resultsDir: string, suite: string, results: BenchResult[]): Promise<string> {
  const path = join(resultsDir, `${suite}.json`);
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

export function formatTable(results: BenchResult[]): string {
  const rows = [
    ["name", "value", "reference", "ratio", "target", "meets"],
    ...results.map((r) => [
      r.name,
      `${r.value} ${r.unit}`,
      `${r.reference_value} ${r.unit} (${r.reference})`,
      r.ratio.toFixed(3),
      r.target,
      r.meets ? "yes" : "NO",
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}

/** The middle value (the upper middle of an even count), as every suite reports repeated measurements. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
