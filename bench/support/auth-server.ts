// Child process of bench/auth.ts, started the way `strongroom server` runs (bin/server-runtime.js: its V8
// flags and malloc settings): a real HTTPS server (buildApp with a vault, SQLite in a temp dir, the
// identity modules; with "audited", the audit trail too) with `count` signed-up users on known devices and
// one read-scope API key. Usage: auth-server.ts COUNT [audited]. Prints
// what the load generators need as one JSON line, then answers commands on stdin, one per line:
// "loop-start" (answered "started") / "loop-stop" measure its own event-loop delay (printed as JSON);
// end of input stops it.
// Users and the key go to the parent over the pipe, never through argv or a file.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import pino from "pino";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { signUp } from "../../src/modules/accounts/sign-up.ts";
import { emailIndexOf } from "../../src/modules/accounts/user-fields.ts";
import { createApiKey } from "../../src/modules/api-keys/api-keys.ts";
import { deviceCookieValue } from "../../src/modules/auth/devices.ts";
import { createIdentityDeps, type IdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { verifyEmail } from "../../src/modules/auth/reset-password.ts";
import { createOutboxSender, listOutbox } from "../../src/modules/messages/outbox-sender.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { openUnsealedDatabase } from "./unsealed-database.ts";

export type BenchUser = { email: string; password: string; deviceCookie: string; userId: string; tenantId: string };
export type AuthServerReady = { base: string; caFile: string; users: BenchUser[]; apiKey: string };
export type EventLoopDelay = { maxMs: number; p99Ms: number };

const USER_PASSWORD = "bench user password, long enough";
const count = Number(process.argv[2] ?? "50");
// "audited": every request also goes to the audit trail, as in `strongroom server` (a read is one record).
const audited = process.argv[3] === "audited";

const dir = await mkdtemp(join(tmpdir(), "sr-bench-auth-"));
const { database, vault } = await openUnsealedDatabase(join(dir, "strongroom.db"));
try {
  const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
  const identity = createIdentityDeps({ db: database.db, vault, messages: createOutboxSender({ db: database.db, vault }), publicUrl: "https://localhost" });
  // Request logging stays on (at the default level) so its cost is in the figures; the lines go nowhere.
  const logger = createLogger({ level: "info", destination: pino.destination({ dest: "/dev/null", sync: false }) });
  const app = await buildApp({
    vault, logger, certificate, bodyLimitBytes: 1024 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "bench", identity,
    ...(audited ? { audit: createAuditTrail({ db: database.db, vault, log: logger, sqliteFile: database.file }) } : {}),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  try {
    const users = await createUsers(identity, count);
    const apiKey = await createApiKey(database.db, vault, { tenantId: users[0]!.tenantId, createdBy: users[0]!.userId, name: "bench", scopes: ["read"], expiresAt: null });
    const ready: AuthServerReady = { base: `https://127.0.0.1:${(app.server.address() as { port: number }).port}`, caFile: certificate.certFile, users, apiKey: apiKey.key };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    for await (const command of createInterface({ input: process.stdin })) {
      if (command === "loop-start") {
        loop.reset();
        loop.enable();
        process.stdout.write("started\n"); // the parent starts the load only after this
      } else if (command === "loop-stop") {
        loop.disable();
        const delay: EventLoopDelay = { maxMs: loop.max / 1e6, p99Ms: loop.percentile(99) / 1e6 };
        process.stdout.write(`${JSON.stringify(delay)}\n`);
      }
    }
  } finally {
    await app.close();
  }
} finally {
  await database.close();
  await rm(dir, { recursive: true, force: true });
}

// Real sign-ups through the modules: company, owner, e-mail verified with the link's token, a known device.
async function createUsers(identity: IdentityDeps, total: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let index = 0; index < total; index++) {
    const email = `bench-${index}@bench.example`;
    await signUp(identity, { companyName: `Bench company ${index}`, name: `Bench ${index}`, email, password: USER_PASSWORD });
    const [message] = await listOutbox(identity, 1);
    const token = /#token=([A-Za-z0-9_-]+)/.exec(message?.message.text ?? "")?.[1];
    if (!token) throw new Error("the verification message has no token");
    await verifyEmail(identity, token);
    const membership = await identity.db.selectFrom("memberships").innerJoin("users", "users.id", "memberships.user_id")
      .select(["memberships.user_id", "memberships.tenant_id"]).where("users.email_index", "=", emailIndexOf(identity.vault, email)).executeTakeFirstOrThrow();
    const device = await identity.devices.register(membership.user_id, "strongroom-bench");
    users.push({ email, password: USER_PASSWORD, deviceCookie: deviceCookieValue(identity.vault, device.id), userId: membership.user_id, tenantId: membership.tenant_id });
  }
  return users;
}
