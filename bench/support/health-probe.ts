// Child process of bench/auth.ts: asks GET /v1/sys/health every 10 ms (one request at a time, over a
// kept-alive connection) until a line arrives on stdin, then prints every latency as JSON.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

const [base, caFile, intervalText] = process.argv.slice(2);
const intervalMs = Number(intervalText ?? "10");
const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(caFile!) });

let stopping = false;
process.stdin.once("data", () => (stopping = true));
process.stdin.resume();

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/sys/health`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

// One warm-up request opens the TLS connection, so no probe pays for the handshake.
await probe();
const latencies: number[] = [];
let failures = 0;
process.stdout.write("ready\n");
while (!stopping) {
  const t0 = performance.now();
  const status = await probe();
  const latency = performance.now() - t0;
  if (status === 200) latencies.push(latency);
  else failures += 1;
  if (latency < intervalMs) await sleep(intervalMs - latency);
}
agent.destroy();
process.stdin.pause();
process.stdout.write(`${JSON.stringify({ latencies, failures })}\n`);
