// Authentication benchmarks against a real HTTPS server (buildApp with a vault, SQLite in a temp dir, the
// identity modules) in a child process started the way `strongroom server` runs (bench/support/auth-server.ts),
// driven from separate processes: wrk for API-key requests next to the unauthenticated health check in the
// same run, and 50 simultaneous password sign-ins (argon2id at the chosen parameters, known devices) while a
// probe asks for the health check every 10 ms to see whether the event loop keeps up.
// Needs `wrk` on the PATH (Debian: apt-get install -y wrk).

import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { asServerProcess } from "../bin/server-runtime.js";
import { passwordHashParameters } from "../src/modules/accounts/passwords.ts";
import type { AuthServerReady, BenchUser, EventLoopDelay } from "./support/auth-server.ts";
import { compareToReference, median, type BenchResult } from "./support/bench-result.ts";

const run = promisify(execFile);

const WRK_CONNECTIONS = 16;
const WRK_SECONDS = 10;
const WARMUP_SECONDS = 3;
// Health and the API-key route alternate, twice each, so drift on a shared machine hits both alike.
const WRK_ROUNDS = 4;
const CONCURRENT_LOGINS = 50;
const LOGINS_PER_WORKER = 4;
const SEQUENTIAL_LOGINS = 10;
const PROBE_INTERVAL_MS = 10;
const PROBE_IDLE_MS = 2000;
const EVENT_LOOP_TARGET_MS = 20;

const argon2Label = `argon2id m=${passwordHashParameters.memoryCost} KiB t=${passwordHashParameters.timeCost} p=${passwordHashParameters.parallelism}`;
const reported = { target: "none: reported", meets: () => true };

type WrkFigures = { requestsPerSecond: number; p99Ms: number; requests: number };

export default async function runAuthBench(): Promise<BenchResult[]> {
  await requireWrk();
  // The figures are only as quiet as the machine: say how busy it was.
  log(`${cpus().length} CPU(s), load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} at the start`);
  log(`starting the server and setting up ${CONCURRENT_LOGINS} users (sign-up, e-mail verification, known device) and an API key…`);
  const server = await startAuthServer(CONCURRENT_LOGINS);
  let results: BenchResult[];
  try {
    const { base, caFile, users } = server.ready;
    const { health: healthFigures, tenant: tenantFigures } = await healthAndApiKeyRounds(server, WRK_ROUNDS, "");
    log(`wrk ${WRK_CONNECTIONS} connections: health ${healthFigures.requestsPerSecond.toFixed(0)} req/s (p99 ${healthFigures.p99Ms.toFixed(2)} ms), ` +
      `tenant with API key ${tenantFigures.requestsPerSecond.toFixed(0)} req/s (p99 ${tenantFigures.p99Ms.toFixed(2)} ms)`);

    const sequential = await runLogins(base, caFile, users, 1, SEQUENTIAL_LOGINS);
    log(`one login at a time: p50 ${percentile(sequential.latencies, 50).toFixed(1)} ms`);

    const idleProbe = await startProbe(base, caFile);
    await new Promise((resolve) => setTimeout(resolve, PROBE_IDLE_MS));
    const idle = await idleProbe.stop();

    const probe = await startProbe(base, caFile);
    await server.command("loop-start");
    const concurrent = await runLogins(base, caFile, users, CONCURRENT_LOGINS, LOGINS_PER_WORKER);
    const loop = JSON.parse(await server.command("loop-stop")) as EventLoopDelay;
    const underLoad = await probe.stop();
    log(`${CONCURRENT_LOGINS} logins at once (${concurrent.latencies.length} in all, ${(concurrent.latencies.length / (concurrent.elapsedMs / 1000)).toFixed(1)}/s): ` +
      `p50 ${percentile(concurrent.latencies, 50).toFixed(0)} ms, p99 ${percentile(concurrent.latencies, 99).toFixed(0)} ms`);
    log(`health probe every ${PROBE_INTERVAL_MS} ms: idle p99 ${percentile(idle.latencies, 99).toFixed(2)} ms; during the logins ${underLoad.latencies.length} probes, ` +
      `p50 ${percentile(underLoad.latencies, 50).toFixed(2)} ms, p99 ${percentile(underLoad.latencies, 99).toFixed(2)} ms, max ${Math.max(...underLoad.latencies).toFixed(2)} ms; ` +
      `server event-loop delay max ${loop.maxMs.toFixed(2)} ms, p99 ${loop.p99Ms.toFixed(2)} ms`);

    log(`load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} at the end`);
    const loginName = `login (POST /v1/auth/login, known device, ${argon2Label})`;
    const sequentialP50 = percentile(sequential.latencies, 50);
    const idleP99 = percentile(idle.latencies, 99);
    results = [
      compareToReference({
        name: `GET /v1/tenants/:id with a read-scope API key (HTTP Basic), wrk ${WRK_CONNECTIONS} connections, median of ${WRK_ROUNDS} rounds of ${WRK_SECONDS} s: requests/s`,
        value: tenantFigures.requestsPerSecond,
        unit: "req/s",
        reference: "GET /v1/sys/health, unauthenticated, same run, rounds taken turn about",
        referenceValue: healthFigures.requestsPerSecond,
        target: ">= 0.70 × reference",
        meets: (_value, ratio) => ratio >= 0.7,
      }),
      compareToReference({
        name: `GET /v1/tenants/:id with a read-scope API key (HTTP Basic), wrk ${WRK_CONNECTIONS} connections, median of ${WRK_ROUNDS} rounds: p99 latency`,
        value: tenantFigures.p99Ms,
        unit: "ms",
        reference: "GET /v1/sys/health p99, same run",
        referenceValue: healthFigures.p99Ms,
        ...reported,
      }),
      compareToReference({
        name: `${loginName}, ${CONCURRENT_LOGINS} at once: p50 latency`,
        value: percentile(concurrent.latencies, 50),
        unit: "ms",
        reference: "one login at a time, p50",
        referenceValue: sequentialP50,
        ...reported,
      }),
      compareToReference({
        name: `${loginName}, ${CONCURRENT_LOGINS} at once: p99 latency`,
        value: percentile(concurrent.latencies, 99),
        unit: "ms",
        reference: "one login at a time, p50",
        referenceValue: sequentialP50,
        ...reported,
      }),
      compareToReference({
        name: `${loginName}, ${CONCURRENT_LOGINS} at once: logins/s`,
        value: concurrent.latencies.length / (concurrent.elapsedMs / 1000),
        unit: "logins/s",
        reference: "one login at a time",
        referenceValue: sequential.latencies.length / (sequential.elapsedMs / 1000),
        ...reported,
      }),
      compareToReference({
        name: `GET /v1/sys/health probe every ${PROBE_INTERVAL_MS} ms during the ${CONCURRENT_LOGINS} logins: p99 latency`,
        value: percentile(underLoad.latencies, 99),
        unit: "ms",
        reference: "same probe with no load, p99",
        referenceValue: idleP99,
        target: `<= ${EVENT_LOOP_TARGET_MS} ms`,
        meets: (value) => value <= EVENT_LOOP_TARGET_MS,
      }),
      compareToReference({
        name: `GET /v1/sys/health probe every ${PROBE_INTERVAL_MS} ms during the ${CONCURRENT_LOGINS} logins: max latency`,
        value: Math.max(...underLoad.latencies),
        unit: "ms",
        reference: "same probe with no load, p99",
        referenceValue: idleP99,
        target: `<= ${EVENT_LOOP_TARGET_MS} ms`,
        meets: (value) => value <= EVENT_LOOP_TARGET_MS,
      }),
    ];
  } finally {
    await server.stop();
  }
  results.push(await measureAuditedApiKeyGet());
  return results;
}

// The same GET on a server that also writes every request to the audit trail, as `strongroom server`
// does (a read is one chained record): what an API client sees in production. Context, no target: the
// issue's figure is the cost of authenticating the key, measured above without the audit trail.
async function measureAuditedApiKeyGet(): Promise<BenchResult> {
  const server = await startAuthServer(1, { audited: true });
  try {
    const { health, tenant } = await healthAndApiKeyRounds(server, 2, "with the audit trail, ");
    return compareToReference({
      name: `context: the same GET with every request written to the audit trail (as strongroom server does), median of 2 rounds: requests/s`,
      value: tenant.requestsPerSecond,
      unit: "req/s",
      reference: "GET /v1/sys/health (not audited) on that server, same run",
      referenceValue: health.requestsPerSecond,
      target: "informational (no target): the audit write, not the key check",
      meets: () => true,
    });
  } finally {
    await server.stop();
  }
}

// The health route and the API-key GET in turn, `rounds` times each after a warm-up of both, medians. While
// wrk runs, the server keeps one core and wrk the other, so neither figure depends on where the scheduler
// happens to put the two (the spread between runs was 8,000-16,000 req/s for health alone).
async function healthAndApiKeyRounds(server: AuthServer, rounds: number, label: string): Promise<{ health: WrkFigures; tenant: WrkFigures }> {
  const { base, users, apiKey } = server.ready;
  const healthUrl = `${base}/v1/sys/health`;
  const tenantUrl = `${base}/v1/tenants/${users[0]!.tenantId}`;
  const basic = ["-H", `Authorization: Basic ${Buffer.from(apiKey).toString("base64")}`];
  const pinned = await pinForWrk(server.pid);
  await runWrk(healthUrl, [], WARMUP_SECONDS, pinned);
  await runWrk(tenantUrl, basic, WARMUP_SECONDS, pinned);
  const healthRuns: WrkFigures[] = [];
  const tenantRuns: WrkFigures[] = [];
  for (let round = 0; round < rounds; round++) {
    healthRuns.push(await runWrk(healthUrl, [], WRK_SECONDS, pinned));
    tenantRuns.push(await runWrk(tenantUrl, basic, WRK_SECONDS, pinned));
  }
  await unpin(server.pid, pinned);
  const perRound = (runs: WrkFigures[]) => runs.map((figures) => figures.requestsPerSecond.toFixed(0)).join(", ");
  log(`${label}wrk rounds (req/s): health ${perRound(healthRuns)}; tenant with API key ${perRound(tenantRuns)}`);
  return { health: medianOf(healthRuns), tenant: medianOf(tenantRuns) };
}

type AuthServer = Awaited<ReturnType<typeof startAuthServer>>;

async function startAuthServer(users: number, options: { audited?: boolean } = {}) {
  const { args, env } = asServerProcess(join(import.meta.dirname, "support", "auth-server.ts"), [String(users), ...(options.audited ? ["audited"] : [])]);
  const child = spawn(process.execPath, args, {
    env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error("the bench server stopped before it was ready");
  return {
    pid: child.pid!,
    ready: JSON.parse(first.value) as AuthServerReady,
    /** Sends one command and waits for its one-line answer. */
    async command(line: string): Promise<string> {
      child.stdin.write(`${line}\n`);
      const answer = await lines.next();
      if (answer.done) throw new Error("the bench server stopped");
      return answer.value;
    },
    async stop(): Promise<void> {
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

async function requireWrk(): Promise<void> {
  try {
    await run("wrk", ["--version"]).catch((error: { code?: unknown; stdout?: string }) => {
      // wrk --version prints its banner and exits 1.
      if (typeof error.stdout === "string" && error.stdout.startsWith("wrk")) return;
      throw error;
    });
  } catch {
    throw new Error("bench auth needs wrk on the PATH (Debian: apt-get install -y wrk)");
  }
}

async function runWrk(url: string, extra: string[], seconds: number, pinning: Pinning): Promise<WrkFigures> {
  const wrk = ["wrk", "-t1", `-c${WRK_CONNECTIONS}`, `-d${seconds}s`, "--latency", ...extra, url];
  const [command, ...args] = pinning ? ["taskset", "-c", pinning.wrkCpu, ...wrk] : wrk;
  const { stdout } = await run(command!, args, { maxBuffer: 1024 * 1024 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(stdout);
  const requests = /(\d+) requests in/.exec(stdout)?.[1];
  if (!rps || !p99 || !requests) throw new Error(`cannot read wrk's output:\n${stdout}`);
  // Any refusal (401, 404, 503) would be fast and inflate the figure: every answer must be a success.
  if (/Non-2xx or 3xx responses/.test(stdout) || /Socket errors/.test(stdout)) throw new Error(`wrk saw failed requests to ${url}:\n${stdout}`);
  const scale = { us: 0.001, ms: 1, s: 1000 }[p99[2] as "us" | "ms" | "s"];
  return { requestsPerSecond: Number(rps), p99Ms: Number(p99[1]) * scale, requests: Number(requests) };
}

function medianOf(runs: WrkFigures[]): WrkFigures {
  return {
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    requests: median(runs.map((run) => run.requests)),
  };
}

type Pinning = { serverCpu: string; wrkCpu: string } | undefined;

// Puts every thread of the server on the first core and leaves the second to wrk (taskset, util-linux).
// Without taskset or a second core nothing is pinned, and the log says so.
async function pinForWrk(serverPid: number): Promise<Pinning> {
  if (cpus().length < 2) {
    log("one CPU: the server and wrk share it");
    return undefined;
  }
  try {
    await run("taskset", ["-a", "-p", "-c", "0", String(serverPid)]);
    log("server pinned to CPU 0, wrk to CPU 1 while wrk runs");
    return { serverCpu: "0", wrkCpu: "1" };
  } catch (error) {
    log(`not pinned (taskset: ${(error as Error).message.split("\n")[0]}): the figures will spread more`);
    return undefined;
  }
}

async function unpin(serverPid: number, pinning: Pinning): Promise<void> {
  if (pinning) await run("taskset", ["-a", "-p", "-c", `0-${cpus().length - 1}`, String(serverPid)]);
}

async function runLogins(base: string, caFile: string, users: BenchUser[], concurrency: number, perWorker: number) {
  const child = spawn(process.execPath, [join(import.meta.dirname, "support", "auth-login-load.ts")], { stdio: ["pipe", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stdin.end(JSON.stringify({ base, caFile, concurrency, perWorker, users: users.map(({ email, password, deviceCookie }) => ({ email, password, deviceCookie })) }));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`the login load process exited with ${code}`);
  const result = JSON.parse(output) as { latencies: number[]; failures: number[]; elapsedMs: number };
  if (result.failures.length > 0) throw new Error(`${result.failures.length} login(s) failed with HTTP ${[...new Set(result.failures)].join(", ")}`);
  return result;
}

async function startProbe(base: string, caFile: string) {
  const child = spawn(process.execPath, [join(import.meta.dirname, "support", "health-probe.ts"), base, caFile, String(PROBE_INTERVAL_MS)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ready = await lines.next();
  if (ready.done || ready.value !== "ready") throw new Error("the health probe did not start");
  return {
    async stop(): Promise<{ latencies: number[] }> {
      child.stdin.end("stop\n");
      const result = await lines.next();
      await once(child, "exit");
      if (result.done) throw new Error("the health probe printed no result");
      const parsed = JSON.parse(result.value) as { latencies: number[]; failures: number };
      if (parsed.failures > 0) throw new Error(`${parsed.failures} health probe(s) failed`);
      return parsed;
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function log(message: string): void {
  process.stdout.write(`  ${message}\n`);
}
