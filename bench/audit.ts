// Audit overhead: requests/s of an API-key-authenticated company-data read with the audit trail on,
// next to the same server with the trail off, measured back to back in one run (target >= 85%).
// Documents arrive with a later issue; until then the read is GET /v1/tenants/:id/members.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../src/http/app.ts";
import { createLogger } from "../src/log/logger.ts";
import { createApiKey } from "../src/modules/api-keys/api-keys.ts";
import { createAuditTrail } from "../src/modules/audit/audit-trail.ts";
import { createIdentityDeps } from "../src/modules/auth/identity-deps.ts";
import { createOutboxSender } from "../src/modules/messages/outbox-sender.ts";
import { openDatabase } from "../src/store/database.ts";
import { migrateToLatest } from "../src/store/migrate.ts";
import { ensureSelfSignedCertificate } from "../src/vault/self-signed-certificate.ts";
import { createVault } from "../src/vault/vault.ts";
import { createVaultRepository } from "../src/vault/vault-repository.ts";
import { compareToReference, type BenchResult } from "./support/bench-result.ts";
import { runWrk } from "./support/wrk.ts";

const seconds = 10;
const connections = 16;

export default async function runAuditBench(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "sr-bench-audit-"));
  const database = await openDatabase({ kind: "sqlite", path: join(dir, "strongroom.db") });
  try {
    await migrateToLatest(database);
    const vault = createVault(createVaultRepository(database.db));
    const { shares } = await vault.initialize(1, 1);
    await vault.submitShare(shares[0]!);
    const tenantId = "bench-tenant";
    await database.db.insertInto("tenants").values({
      id: tenantId,
      name_ciphertext: await vault.data.sealString({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field: "name" }, "Bench Co"),
      created_at: new Date().toISOString(),
    }).execute();
    const { key } = await createApiKey(database.db, vault, { tenantId, createdBy: "bench", name: "bench", scopes: ["read"], expiresAt: null });
    const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
    const log = createLogger({ level: "silent" });
    const identity = createIdentityDeps({ db: database.db, vault, messages: createOutboxSender({ db: database.db, vault }), publicUrl: "https://localhost" });
    const headers = { authorization: `Basic ${Buffer.from(key).toString("base64")}` };

    const measure = async (withAudit: boolean) => {
      const app: FastifyInstance = await buildApp({
        vault, logger: log, certificate, bodyLimitBytes: 65536, trustedProxies: [], operatorCidrs: [], version: "bench", identity,
        ...(withAudit ? { audit: createAuditTrail({ db: database.db, vault, log }) } : {}),
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      const url = `https://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/tenants/${tenantId}/members`;
      try {
        await runWrk(url, { seconds: 2, connections, headers, scriptFile: join(dir, "wrk.lua") });
        return await runWrk(url, { seconds, connections, headers, scriptFile: join(dir, "wrk.lua") });
      } finally {
        await app.close();
      }
    };
    const off = await measure(false);
    const on = await measure(true);
    if (on.non2xx > 0 || off.non2xx > 0) throw new Error(`non-2xx answers during the bench (on ${on.non2xx}, off ${off.non2xx})`);
    const records = await database.db.selectFrom("audit_records").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    process.stdout.write(`  audit off ${off.requestsPerSecond.toFixed(0)} req/s, on ${on.requestsPerSecond.toFixed(0)} req/s; ${records.n} records written\n`);
    return [
      compareToReference({
        name: "company-data read (GET members, API key, SQLite) req/s with the audit trail on",
        value: on.requestsPerSecond, unit: "req/s",
        reference: "the same read with the audit trail off, same run", referenceValue: off.requestsPerSecond,
        target: ">= 0.85 × reference", meets: (_value, ratio) => ratio >= 0.85,
      }),
      compareToReference({
        name: "p99 latency of that read with the audit trail on",
        value: on.p99Ms, unit: "ms",
        reference: "p99 with the audit trail off, same run", referenceValue: off.p99Ms,
        target: "informational (no target)", meets: () => true,
      }),
    ];
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}
