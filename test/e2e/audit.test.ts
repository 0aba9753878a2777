// The audit trail end to end on SQLite and PostgreSQL: a walk over the whole route table proves every
// audited route writes exactly one record with the right actor, action and object; tampering is found;
// with the trail unwritable, data reads are refused and nothing is returned.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail, isAuditedRoute } from "../../src/modules/audit/audit-trail.ts";
import { verifyAuditChains } from "../../src/modules/audit/verify-audit-chain.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createAlertDispatcher } from "../../src/modules/monitoring/alert-dispatcher.ts";
import { createDetectors } from "../../src/modules/monitoring/detectors.ts";
import { createMetrics } from "../../src/modules/monitoring/metrics.ts";
import { createSecurityEvents } from "../../src/modules/monitoring/security-events.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault, type Vault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import { httpsRequest } from "../support/https-request.ts";
import { codeIn, startMailServer, tokenIn, type MailServer } from "../support/mail-server.ts";
import { WebClient } from "../support/web-client.ts";

const owner = { email: "olivia@audit.example", password: "olivia audits everything 2026", name: "Olivia", companyName: "Audited Co" };

for (const kind of databaseKinds) {
  describe(`audit trail (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let dir: string;
    let mail: MailServer;
    let app: FastifyInstance;
    let vault: Vault;
    let base: string;
    let ca: Buffer;
    let olivia: WebClient;
    let tenantId: string;
    let userId: string;
    const db = () => test.database.db;
    const lastRecord = () => db().selectFrom("audit_records").selectAll().orderBy("at", "desc").orderBy("seq", "desc").executeTakeFirstOrThrow();
    const recordCount = async () => Number((await db().selectFrom("audit_records").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-audit-"));
      mail = await startMailServer();
      const certificate = await ensureSelfSignedCertificate(dir);
      ca = await readFile(certificate.certFile);
      vault = createVault(createVaultRepository(db()));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      const log = createLogger({ level: "silent" });
      const messages = createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "s@test.example" });
      // Every capability the server wires (documents, sharing, search, support access, monitoring, OIDC),
      // so the walk below covers the whole route table.
      const events = createSecurityEvents();
      const metrics = createMetrics({ processMetrics: false });
      const alerts = createAlertDispatcher({ db: db(), vault, messages, events, log, metrics, operatorConfig: {} });
      app = await buildApp({
        vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [],
        operatorCidrs: ["10.0.0.0/8"], version: "test",
        identity: createIdentityDeps({ db: db(), vault, publicUrl: "https://localhost", messages }),
        documents: { blobStore: createFileBlobStore(join(dir, "blobs")), maxUploadBytes: 1024 * 1024 },
        monitoring: { metrics, alerts, detectors: createDetectors({ events, massDownload: { limit: 1000, windowMs: 60_000 } }) },
        oidc: { providers: [] },
        audit: createAuditTrail({ db: db(), vault, log, copyFile: join(dir, "audit.jsonl"), checkpointEvery: 5, sqliteFile: test.database.file }),
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `https://localhost:${(app.server.address() as { port: number }).port}`;

      let since = mail.received.length;
      await new WebClient(base, ca).post("/v1/auth/signup", owner);
      await new WebClient(base, ca).post("/v1/auth/verify-email", { token: tokenIn(await mail.next(owner.email, since)) });
      olivia = new WebClient(base, ca);
      since = mail.received.length;
      const login = await olivia.post("/v1/auth/login", { email: owner.email, password: owner.password });
      await olivia.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(owner.email, since)) });
      const session = (await olivia.get("/v1/auth/session")).json();
      tenantId = session.tenants[0].id;
      userId = session.user.id;
    });

    after(async () => {
      await app?.close();
      await mail?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("every audited route in the route table writes exactly one record with the right actor, action and object", async () => {
      const document = (await httpsRequest(`${base}/v1/openapi.json`, { ca })).json() as { paths: Record<string, Record<string, unknown>> };
      const routes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
      const audited = routes.filter((route) => isAuditedRoute(route.path.replace(/\{(\w+)\}/g, ":$1")));
      assert.ok(audited.length >= 25, `the walk covers the route table (${audited.length} routes)`);
      for (const path of ["/v1/tenants/{tenantId}/documents/{id}/content", "/v1/tenants/{tenantId}/search", "/v1/tenants/{tenantId}/alert-channels", "/v1/tenants/{tenantId}/support-access",
        "/v1/tenants/{tenantId}/signature-requests", "/v1/tenants/{tenantId}/signing-webhooks", "/v1/sign/{token}/pin", "/v1/sign/{token}/sign"]) {
        assert.ok(audited.some((route) => route.path === path), `the walk includes ${path}`);
      }
      // Ending the session last keeps the walker signed in.
      audited.sort((a, b) => Number(a.path.endsWith("/logout")) - Number(b.path.endsWith("/logout")));
      for (const route of audited) {
        const path = route.path.replace("{tenantId}", tenantId).replace(/\{(\w+)\}/g, "unknown-id");
        const before = await recordCount();
        const response = await olivia.request(route.method, path, route.method === "GET" || route.method === "DELETE" ? undefined : {});
        assert.ok(response.status < 500, `${route.method} ${route.path} answered ${response.status}: ${response.text}`);
        assert.equal(await recordCount(), before + 1, `${route.method} ${route.path} wrote exactly one record`);
        const record = await lastRecord();
        assert.equal(record.action, `${route.method} ${route.path.replace(/\{(\w+)\}/g, ":$1")}`);
        assert.notEqual(record.result, "pending", "the record was completed with the result");
        assert.equal(record.status, response.status);
        if (route.path.includes("{tenantId}")) {
          assert.equal(record.chain_id, tenantId);
          assert.equal(JSON.parse(record.object).tenantId, tenantId);
        }
        if (!route.path.startsWith("/v1/auth/login") && !route.path.startsWith("/v1/auth/signup")) {
          assert.deepEqual([record.actor_type, record.actor_id], ["user", userId], `${route.method} ${route.path} names the actor`);
        }
      }
    });

    it("sign-ins are recorded for the user they concern, with the e-mail only as a keyed hash", async () => {
      const client = new WebClient(base, ca);
      await client.post("/v1/auth/login", { email: owner.email, password: "a wrong password for olivia" });
      const record = await lastRecord();
      assert.deepEqual([record.action, record.result, record.subject_id, record.actor_type], ["POST /v1/auth/login", "denied", userId, "anonymous"]);
      assert.ok(!record.details.includes(owner.email));
      const fresh = new WebClient(base, ca);
      const since = mail.received.length;
      const login = await fresh.post("/v1/auth/login", { email: owner.email, password: owner.password });
      await fresh.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(owner.email, since)) });
      const history = (await fresh.get("/v1/auth/sign-ins")).json().signIns as { result: string }[];
      assert.ok(history.some((entry) => entry.result === "denied") && history.some((entry) => entry.result === "ok"));
      olivia = fresh;
    });

    it("admins browse, filter and export the company's trail", async () => {
      const page = (await olivia.get(`/v1/tenants/${tenantId}/audit?limit=5`)).json();
      assert.equal(page.records.length, 5);
      const filtered = (await olivia.get(`/v1/tenants/${tenantId}/audit?action=${encodeURIComponent("GET /v1/tenants/:tenantId/members")}`)).json();
      assert.ok(filtered.records.length >= 1 && filtered.records.every((r: { action: string }) => r.action === "GET /v1/tenants/:tenantId/members"));
      const csv = await olivia.get(`/v1/tenants/${tenantId}/audit/export?format=csv`);
      assert.match(String(csv.headers["content-type"]), /text\/csv/);
      assert.match(csv.text, /^seq,at,actor_type/);
      const jsonl = await olivia.get(`/v1/tenants/${tenantId}/audit/export?format=jsonl`);
      assert.ok(jsonl.text.trim().split("\n").every((line) => JSON.parse(line).action));
    });

    it("the intact trail verifies, with signed checkpoints, and the JSON-lines copy has every record", async () => {
      const reports = await verifyAuditChains(db(), vault);
      for (const report of reports) assert.deepEqual(report.problems, [], report.chainId);
      assert.ok(reports.some((report) => report.checkpoints > 0), "checkpoints were signed");
      const copy = (await readFile(join(dir, "audit.jsonl"), "utf8")).trim().split("\n");
      assert.ok(copy.length >= (await recordCount()) - 1);
    });

    it("an edited, deleted or reordered record, or an edited result, is found", async () => {
      const chain = tenantId;
      const problemsAfter = async (tamper: () => Promise<unknown>, undo: () => Promise<unknown>) => {
        await tamper();
        const report = (await verifyAuditChains(db(), vault, chain))[0]!;
        await undo();
        return report.problems;
      };
      const third = await db().selectFrom("audit_records").selectAll().where("chain_id", "=", chain).where("seq", "=", 3).executeTakeFirstOrThrow();
      const fourth = await db().selectFrom("audit_records").selectAll().where("chain_id", "=", chain).where("seq", "=", 4).executeTakeFirstOrThrow();
      const edited = await problemsAfter(
        () => db().updateTable("audit_records").set({ ip: "203.0.113.9" }).where("chain_id", "=", chain).where("seq", "=", 3).execute(),
        () => db().updateTable("audit_records").set({ ip: third.ip }).where("chain_id", "=", chain).where("seq", "=", 3).execute(),
      );
      assert.ok(edited.some((problem) => problem.startsWith("record 3 ")), edited.join("; "));
      const result = await problemsAfter(
        () => db().updateTable("audit_records").set({ result: fourth.result === "ok" ? "denied" : "ok" }).where("chain_id", "=", chain).where("seq", "=", 4).execute(),
        () => db().updateTable("audit_records").set({ result: fourth.result, status: fourth.status }).where("chain_id", "=", chain).where("seq", "=", 4).execute(),
      );
      assert.ok(result.some((problem) => problem.includes("record 4: its result was altered")), result.join("; "));
      const removed = await problemsAfter(
        () => db().deleteFrom("audit_records").where("chain_id", "=", chain).where("seq", "=", 3).execute(),
        () => db().insertInto("audit_records").values(third).execute(),
      );
      assert.ok(removed.some((problem) => problem.includes("record 3 is missing")), removed.join("; "));
      const reordered = await problemsAfter(async () => {
        await db().updateTable("audit_records").set({ seq: -3 }).where("chain_id", "=", chain).where("seq", "=", 3).execute();
        await db().updateTable("audit_records").set({ seq: 3 }).where("chain_id", "=", chain).where("seq", "=", 4).execute();
        await db().updateTable("audit_records").set({ seq: 4 }).where("chain_id", "=", chain).where("seq", "=", -3).execute();
      }, async () => {
        await db().updateTable("audit_records").set({ seq: -3 }).where("chain_id", "=", chain).where("seq", "=", 4).execute();
        await db().updateTable("audit_records").set({ seq: 4 }).where("chain_id", "=", chain).where("seq", "=", 3).execute();
        await db().updateTable("audit_records").set({ seq: 3 }).where("chain_id", "=", chain).where("seq", "=", -3).execute();
      });
      assert.ok(reordered.some((problem) => problem.includes("hash mismatch")), reordered.join("; "));
      const checkpoint = await db().selectFrom("audit_checkpoints").selectAll().where("chain_id", "=", chain).executeTakeFirstOrThrow();
      const forged = await problemsAfter(
        () => db().updateTable("audit_checkpoints").set({ signature: Buffer.alloc(64).toString("base64url") }).where("chain_id", "=", chain).where("seq", "=", checkpoint.seq).execute(),
        () => db().updateTable("audit_checkpoints").set({ signature: checkpoint.signature }).where("chain_id", "=", chain).where("seq", "=", checkpoint.seq).execute(),
      );
      assert.ok(forged.some((problem) => problem.includes("invalid signature")), forged.join("; "));
      assert.deepEqual((await verifyAuditChains(db(), vault, chain))[0]!.problems, [], "restored: intact again");
    });

    it("with the trail unwritable, a document download is refused and nothing of it is returned", async () => {
      const marker = `AUDIT-DOWNLOAD-MARKER-${kind}`;
      const documentId = (await olivia.post(`/v1/tenants/${tenantId}/documents`, { title: "audited download" })).json().id as string;
      const uploaded = await olivia.request("PUT", `/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=0`, Buffer.from(`${marker} body`), { "x-content-type": "text/plain" });
      assert.equal(uploaded.status, 201, uploaded.text);
      const contentPath = `/v1/tenants/${tenantId}/documents/${documentId}/content`;
      assert.ok((await olivia.get(contentPath)).text.includes(marker), "readable while the trail is writable");
      const block = kind === "sqlite"
        ? [sql`CREATE TRIGGER audit_block_download BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'audit store read-only'); END`]
        : [sql`CREATE FUNCTION audit_block_download() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit store read-only'; END $$ LANGUAGE plpgsql`,
          sql`CREATE TRIGGER audit_block_download BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_block_download()`];
      for (const statement of block) await statement.execute(db());
      try {
        const refused = await olivia.get(contentPath);
        assert.deepEqual([refused.status, refused.json().error], [503, "audit_unavailable"]);
        assert.ok(!refused.text.includes(marker), "no document bytes in the answer");
        const ranged = await olivia.request("GET", contentPath, undefined, { range: "bytes=0-9" });
        assert.equal(ranged.status, 503);
        assert.ok(!ranged.text.includes(marker.slice(0, 10)), "no bytes of a ranged read either");
      } finally {
        await sql`DROP TRIGGER audit_block_download${kind === "postgres" ? sql` ON audit_records` : sql``}`.execute(db());
      }
    });

    it("with the trail unwritable, a data read is refused and nothing is returned", async () => {
      const block = kind === "sqlite"
        ? [sql`CREATE TRIGGER audit_block BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'audit store read-only'); END`]
        : [sql`CREATE FUNCTION audit_block() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit store read-only'; END $$ LANGUAGE plpgsql`,
          sql`CREATE TRIGGER audit_block BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_block()`];
      for (const statement of block) await statement.execute(db());
      try {
        const refused = await olivia.get(`/v1/tenants/${tenantId}/members`);
        assert.deepEqual([refused.status, refused.json().error], [503, "audit_unavailable"]);
        assert.ok(!refused.text.includes(owner.email), "no member data in the answer");
      } finally {
        await sql`DROP TRIGGER audit_block${kind === "postgres" ? sql` ON audit_records` : sql``}`.execute(db());
      }
      // A write is recorded before it runs: with the trail unwritable it does not run at all.
      for (const statement of block) await statement.execute(db()).catch(() => undefined);
      try {
        const countGroups = async () => Number((await db().selectFrom("groups").select((eb) => eb.fn.countAll<number>().as("n")).where("tenant_id", "=", tenantId).executeTakeFirstOrThrow()).n);
        const groupsBefore = await countGroups();
        const refusedWrite = await olivia.post(`/v1/tenants/${tenantId}/groups`, { name: "never created" });
        assert.deepEqual([refusedWrite.status, refusedWrite.json().error], [503, "audit_unavailable"]);
        await sql`DROP TRIGGER audit_block${kind === "postgres" ? sql` ON audit_records` : sql``}`.execute(db());
        assert.equal(await countGroups(), groupsBefore, "the write did not happen");
      } finally {
        await sql`DROP TRIGGER IF EXISTS audit_block${kind === "postgres" ? sql` ON audit_records` : sql``}`.execute(db());
      }
      // Completing a write's record fails: the answer is withheld.
      const blockUpdate = kind === "sqlite"
        ? [sql`CREATE TRIGGER audit_block_update BEFORE UPDATE ON audit_records BEGIN SELECT RAISE(ABORT, 'audit store read-only'); END`]
        : [sql`CREATE TRIGGER audit_block_update BEFORE UPDATE ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_block()`];
      for (const statement of blockUpdate) await statement.execute(db());
      try {
        const withheld = await olivia.post(`/v1/tenants/${tenantId}/groups`, { name: "created, answer withheld" });
        assert.deepEqual([withheld.status, withheld.json().error], [503, "audit_unavailable"]);
        assert.ok(!withheld.text.includes("\"id\""), "no data in the answer");
      } finally {
        await sql`DROP TRIGGER audit_block_update${kind === "postgres" ? sql` ON audit_records` : sql``}`.execute(db());
      }
      assert.equal((await olivia.get(`/v1/tenants/${tenantId}/members`)).status, 200, "works again once the trail is writable");
    });
  });
}
