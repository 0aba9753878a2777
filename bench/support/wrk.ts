// Runs Debian's wrk (a load generator in its own process, on the other core) against a URL on
// loopback and reads requests/s and latency percentiles from its report.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";

export type WrkFigures = { requestsPerSecond: number; p50Ms: number; p95Ms: number; p99Ms: number; non2xx: number };

const latencyScript = `done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p50\\":%f,\\"p95\\":%f,\\"p99\\":%f,\\"non2xx\\":%d}\\n", latency:percentile(50)/1000, latency:percentile(95)/1000, latency:percentile(99)/1000, summary.errors.status))
end`;

export function requireWrk(): string {
  const path = ["/usr/bin/wrk", "/usr/local/bin/wrk"].find((candidate) => existsSync(candidate));
  if (!path) throw new Error("wrk is not installed: apt-get install -y wrk");
  return path;
}

export async function runWrk(url: string, options: { seconds: number; connections: number; headers?: Record<string, string>; scriptFile: string }): Promise<WrkFigures> {
  const { writeFile } = await import("node:fs/promises");
  await writeFile(options.scriptFile, latencyScript);
  const args = ["-t1", `-c${options.connections}`, `-d${options.seconds}s`, "--latency", "-s", options.scriptFile];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  const { stdout } = await promisify(execFile)(requireWrk(), [...args, url], { timeout: (options.seconds + 30) * 1000 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
  const json = /JSON (\{.*\})/.exec(stdout)?.[1];
  if (!rps || !json) throw new Error(`could not read wrk's report:\n${stdout}`);
  const parsed = JSON.parse(json) as { p50: number; p95: number; p99: number; non2xx: number };
  return { requestsPerSecond: Number(rps), p50Ms: parsed.p50, p95Ms: parsed.p95, p99Ms: parsed.p99, non2xx: parsed.non2xx };
}
