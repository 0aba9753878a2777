// Audit overhead: requests/s of an API-key-authenticated document read (GET of a small document's
// content: rights check, metadata and content decryption) with the audit trail on, next to the same
// server with the trail off, measured in one run (target >= 85%). The members list is
// measured the same way for context: a cheaper read, so the trail's fixed cost weighs more there.
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
import { createFileBlobStore } from "../src/store/blob-store-fs.ts";
import { ensureSelfSignedCertificate } from "../src/vault/self-signed-certificate.ts";
import { compareToReference, type BenchResult } from "./support/bench-result.ts";
import { openUnsealedDatabase } from "./support/unsealed-database.ts";
import { runWrk, type WrkFigures } from "./support/wrk.ts";

const turnSeconds = 4;
const connections = 16;

export default async function runAuditBench(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "sr-bench-audit-"));
  const { database, vault } = await openUnsealedDatabase(join(dir, "strongroom.db"));
  try {
    const tenantId = "bench-tenant";
    await database.db.insertInto("tenants").values({
      id: tenantId,
      name_ciphertext: await vault.data.sealString({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field: "name" }, "Bench Co"),
      created_at: new Date().toISOString(),
    }).execute();
    const { key } = await createApiKey(database.db, vault, { tenantId, createdBy: "bench", name: "bench", scopes: ["read", "write"], expiresAt: null });
    const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
    const log = createLogger({ level: "silent" });
    const identity = createIdentityDeps({ db: database.db, vault, messages: createOutboxSender({ db: database.db, vault }), publicUrl: "https://localhost" });
    const headers = { authorization: `Basic ${Buffer.from(key).toString("base64")}` };
    const documents = { blobStore: createFileBlobStore(join(dir, "blobs")), maxUploadBytes: 1 << 20 };
    const audit = createAuditTrail({ db: database.db, vault, log, sqliteFile: database.file });
    const build = (withAudit: boolean) => buildApp({
      vault, logger: log, certificate, bodyLimitBytes: 65536, trustedProxies: [], operatorCidrs: [], version: "bench", identity, documents,
      ...(withAudit ? { audit } : {}),
    });

    const setup = await build(true);
    const created = await setup.inject({ method: "POST", url: `/v1/tenants/${tenantId}/documents`, headers: { ...headers, "content-type": "application/json" }, payload: { title: "Quarterly report" } });
    if (created.statusCode !== 201) throw new Error(`could not create the bench document: ${created.statusCode} ${created.body}`);
    const documentId = created.json().id as string;
    const uploaded = await setup.inject({
      method: "PUT", url: `/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=0`,
      headers: { ...headers, "content-type": "application/octet-stream", "x-content-type": "text/plain" }, payload: Buffer.alloc(4096, "quarterly figures "),
    });
    if (uploaded.statusCode >= 300) throw new Error(`could not upload the bench document: ${uploaded.statusCode} ${uploaded.body}`);
    await setup.close();

    const listening = async (withAudit: boolean) => {
      const app: FastifyInstance = await build(withAudit);
      await app.listen({ host: "127.0.0.1", port: 0 });
      return { app, url: (path: string) => `https://127.0.0.1:${(app.server.address() as { port: number }).port}${path}` };
    };
    const countRecords = async () => Number((await database.db.selectFrom("audit_records").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
    const mean = (runs: WrkFigures[]): WrkFigures => {
      const average = (pick: (figures: WrkFigures) => number) => runs.reduce((sum, figures) => sum + pick(figures), 0) / runs.length;
      return {
        requestsPerSecond: average((f) => f.requestsPerSecond), p50Ms: average((f) => f.p50Ms), p95Ms: average((f) => f.p95Ms), p99Ms: average((f) => f.p99Ms),
        non2xx: runs.reduce((sum, figures) => sum + figures.non2xx, 0),
      };
    };
    // Both servers listen side by side and take turns (off, on, on, off, four times over: single turns on
    // this shared machine vary by ±20%), so a machine that
    // gets slower or faster during the run (other tenants of the host, a warmer process) weighs on both.
    const order = Array.from({ length: 4 }, () => ["off", "on", "on", "off"] as const).flat();
    const compare = async (servers: Record<"off" | "on", { url(path: string): string }>, path: string, label: string) => {
      const wrk = (side: "off" | "on", runSeconds: number) => runWrk(servers[side].url(path), { seconds: runSeconds, connections, headers, scriptFile: join(dir, "wrk.lua") });
      await wrk("off", 2);
      await wrk("on", 2);
      const before = await countRecords();
      const runs: Record<"off" | "on", WrkFigures[]> = { off: [], on: [] };
      for (const side of order) runs[side].push(await wrk(side, turnSeconds));
      const written = (await countRecords()) - before;
      const off = mean(runs.off);
      const on = mean(runs.on);
      if (on.non2xx > 0 || off.non2xx > 0) throw new Error(`non-2xx answers during the bench (on ${on.non2xx}, off ${off.non2xx})`);
      const turns = (side: "off" | "on") => runs[side].map((figures) => figures.requestsPerSecond.toFixed(0)).join(" ");
      process.stdout.write(`  ${label}: audit off ${off.requestsPerSecond.toFixed(0)} req/s (${turns("off")}), on ${on.requestsPerSecond.toFixed(0)} req/s (${turns("on")}); ${written} records written\n`);
      return { off, on };
    };
    const servers = { off: await listening(false), on: await listening(true) };
    let documentRead, membersRead;
    try {
      documentRead = await compare(servers, `/v1/tenants/${tenantId}/documents/${documentId}/content`, "document read");
      membersRead = await compare(servers, `/v1/tenants/${tenantId}/members`, "members read");
    } finally {
      await servers.off.app.close();
      await servers.on.app.close();
    }
    return [
      compareToReference({
        name: "document read (GET content of a 4 KiB document, API key, SQLite) req/s with the audit trail on",
        value: documentRead.on.requestsPerSecond, unit: "req/s",
        reference: "the same read with the audit trail off, same run", referenceValue: documentRead.off.requestsPerSecond,
        target: ">= 0.85 × reference", meets: (_value, ratio) => ratio >= 0.85,
      }),
      compareToReference({
        name: "p99 latency of that document read with the audit trail on",
        value: documentRead.on.p99Ms, unit: "ms",
        reference: "p99 with the audit trail off, same run", referenceValue: documentRead.off.p99Ms,
        target: "informational (no target)", meets: () => true,
      }),
      compareToReference({
        name: "context: members list (GET members, API key, SQLite) req/s with the audit trail on",
        value: membersRead.on.requestsPerSecond, unit: "req/s",
        reference: "the same read with the audit trail off, same run", referenceValue: membersRead.off.requestsPerSecond,
        target: "informational (no target)", meets: () => true,
      }),
    ];
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}
