// Child process of bench/auth.ts: signs in over HTTPS with `concurrency` logins in flight at once
// (each worker signs in `perWorker` times, one after the other) and prints every latency as JSON.
// Credentials arrive on stdin, not argv, so they do not show in the process list.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { performance } from "node:perf_hooks";
import { text } from "node:stream/consumers";

type LoadInput = {
  base: string;
  caFile: string;
  concurrency: number;
  perWorker: number;
  users: { email: string; password: string; deviceCookie: string }[];
};

const input = JSON.parse(await text(process.stdin)) as LoadInput;
const ca = readFileSync(input.caFile);
const agent = new Agent({ keepAlive: true, maxSockets: input.concurrency, ca });

function logIn(user: LoadInput["users"][number]): Promise<number> {
  const body = JSON.stringify({ email: user.email, password: user.password });
  return new Promise((resolve, reject) => {
    const req = request(`${input.base}/v1/auth/login`, {
      method: "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), cookie: `__Host-sr_device=${user.deviceCookie}` },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const latencies: number[] = [];
const failures: number[] = [];
const started = performance.now();
await Promise.all(Array.from({ length: input.concurrency }, async (_, worker) => {
  const user = input.users[worker % input.users.length]!;
  for (let round = 0; round < input.perWorker; round++) {
    const t0 = performance.now();
    const status = await logIn(user);
    if (status === 200) latencies.push(performance.now() - t0);
    else failures.push(status);
  }
}));
const elapsedMs = performance.now() - started;
agent.destroy();
process.stdout.write(`${JSON.stringify({ latencies, failures, elapsedMs })}\n`);
