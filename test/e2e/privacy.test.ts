// GDPR end to end on SQLite (file store) and PostgreSQL (real S3-protocol server): a person's data
// export and a whole company's export as tar archives that GNU tar extracts and `sha256sum -c`
// checks, byte-identical files; retention settings enforced by the sweep under a simulated clock (the
// audit chain still verifies after pruning); the sub-processors register; erasure of a member, of
// oneself and of a company by crypto-shredding — and an older copy of the database, restored with the
// same custodian share and the shred list applied, cannot open the erased company while the other
// company's data opens.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { verifyAuditChains } from "../../src/modules/audit/verify-audit-chain.ts";
import { contentContext } from "../../src/modules/documents/document-content.ts";
import { enforceRetention } from "../../src/modules/privacy/enforce-retention.ts";
import type { SecurityEvent } from "../../src/modules/monitoring/security-events.ts";
import { createS3BlobStore } from "../../src/store/blob-store-s3.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import type { BlobStore } from "../../src/store/blob-store.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { copyTestDatabase } from "../support/database-copy.ts";
import { databaseKinds, skipReason, type TestDatabase } from "../support/databases.ts";
import { makeTestPdf } from "../support/sample-pdf.ts";
import { startS3Server } from "../support/s3-server.ts";
import { inviteAndSignIn, startTestApp, type TestApp } from "../support/signed-in-app.ts";
import { WebClient } from "../support/web-client.ts";

const run = promisify(execFile);
const alice = { email: "alice@privacy.example", password: "alice keeps a tidy company 1", name: "Alice Owner" };
const bob = { email: "bob@privacy.example", password: "bob wants his data back 22", name: "Bob Member" };
const carol = { email: "carol@other.example", password: "carol runs the other one 3", name: "Carol Other" };
const subProcessors = [{ name: "Example Mail Ltd", purpose: "sending sign-in codes by e-mail", location: "EU (Ireland)", dataCategories: ["e-mail address"], url: "https://mail.example/dpa" }];
const dayMs = 86_400_000;

async function extract(bytes: Buffer): Promise<{ dir: string; files: string[]; read(name: string): Promise<Buffer>; json(name: string): Promise<any> }> {
  const dir = await mkdtemp(join(tmpdir(), "sr-export-"));
  await writeFile(join(dir, "export.tar"), bytes);
  const out = join(dir, "x");
  await run("mkdir", [out]);
  await run("tar", ["-xf", join(dir, "export.tar"), "-C", out]);
  const files = (await readdir(out, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(out.length + 1)).sort();
  const sums = files.filter((name) => name.startsWith("checksums/"));
  assert.ok(sums.length >= 1, "the archive carries checksum files");
  await run("sha256sum", ["--quiet", "-c", ...sums], { cwd: out });
  return { dir, files, read: (name) => readFile(join(out, name)), json: async (name) => JSON.parse(await readFile(join(out, name), "utf8")) };
}

for (const kind of databaseKinds) {
  describe(`GDPR export, retention and erasure (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let s3: Awaited<ReturnType<typeof startS3Server>> | undefined;
    let blobStore: BlobStore;
    let a: WebClient;
    let tenantA: string;
    let aliceId: string;
    let bobClient: WebClient;
    let bobId: string;
    let c: WebClient;
    let tenantC: string;
    let aliceDoc: string;
    let bobDoc: string;
    let carolDoc: string;
    let pageId: string;
    const v1 = randomBytes(150_000);
    const v2 = randomBytes(70_000);
    const bobFile = randomBytes(5_000);
    const carolFile = randomBytes(90_000);
    const pageText = `# Minutes\n\nAgreed: ${randomBytes(4).toString("hex")}\n`;
    const temps: string[] = [];
    const securityEvents: SecurityEvent[] = [];
    let oldCopy: TestDatabase | undefined;
    const db = () => t.test.database.db;

    const newDocument = async (client: WebClient, tenantId: string, title: string, kind: "file" | "page" = "file") => {
      const created = await client.post(`/v1/tenants/${tenantId}/documents`, { title, kind });
      assert.equal(created.status, 201, created.text);
      return created.json().id as string;
    };
    const upload = async (client: WebClient, tenantId: string, documentId: string, bytes: Buffer, baseVersion: number) => {
      const response = await client.request("PUT", `/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=${baseVersion}`, bytes,
        { "x-content-type": "application/pdf", "x-filename": encodeURIComponent("report é.pdf") });
      assert.equal(response.status, 201, response.text);
    };

    before(async () => {
      if (kind === "postgres") s3 = await startS3Server();
      t = await startTestApp(kind, async ({ dir, events }) => {
        events.subscribe((event) => void securityEvents.push(event));
        blobStore = s3
          ? createS3BlobStore({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true })
          : createFileBlobStore(join(dir, "blobs"));
        return { documents: { blobStore, maxUploadBytes: 1024 * 1024 }, privacy: { subProcessors } };
      });
      ({ client: a, tenantId: tenantA, userId: aliceId } = await t.signUp(alice, "Privacy Co"));
      ({ client: bobClient, userId: bobId } = await inviteAndSignIn(t, a, tenantA, bob, "member"));
      ({ client: c, tenantId: tenantC } = await t.signUp(carol, "Other Co"));
      aliceDoc = await newDocument(a, tenantA, "Annual report");
      await upload(a, tenantA, aliceDoc, v1, 0);
      await upload(a, tenantA, aliceDoc, v2, 1);
      pageId = await newDocument(a, tenantA, "Minutes", "page");
      assert.equal((await a.request("PUT", `/v1/tenants/${tenantA}/pages/${pageId}`, { text: pageText, baseVersion: 0 })).status, 200);
      bobDoc = await newDocument(bobClient, tenantA, "Bob's expenses");
      await upload(bobClient, tenantA, bobDoc, bobFile, 0);
      carolDoc = await newDocument(c, tenantC, "Other contract");
      await upload(c, tenantC, carolDoc, carolFile, 0);
    });

    after(async () => {
      for (const dir of temps) await rm(dir, { recursive: true, force: true });
      await oldCopy?.cleanup();
      await t?.close();
      await s3?.close();
    });

    it("a person downloads their data: profile, memberships, sessions, sign-in activity and exactly the files they created", async () => {
      const response = await bobClient.get("/v1/me/export");
      assert.equal(response.status, 200, response.text);
      assert.equal(response.headers["content-type"], "application/x-tar");
      const archive = await extract(response.bytes);
      temps.push(archive.dir);
      assert.equal((await archive.json("manifest.json")).format, "strongroom-personal-export");
      const profile = await archive.json("profile.json");
      assert.deepEqual([profile.id, profile.email, profile.name], [bobId, bob.email, bob.name]);
      assert.deepEqual((await archive.json("memberships.json")).map((m: { companyName: string; role: string }) => [m.companyName, m.role]), [["Privacy Co", "member"]]);
      assert.ok((await archive.json("sessions.json")).length >= 1);
      const activity = (await Promise.all(archive.files.filter((name) => name.startsWith("activity/")).map((name) => archive.read(name)))).join("");
      assert.match(activity, /POST \/v1\/auth\/login/);
      assert.ok((await archive.read(`documents/${tenantA}/${bobDoc}/v1`)).equals(bobFile));
      const meta = await archive.json(`documents/${tenantA}/${bobDoc}/document.json`);
      assert.deepEqual([meta.title, meta.versions[0].filename], ["Bob's expenses", "report é.pdf"]);
      assert.ok(!archive.files.some((name) => name.includes(aliceDoc)), "nothing Alice created");
      const everything = (await Promise.all(archive.files.map((name) => archive.read(name)))).map((bytes) => bytes.toString("latin1")).join("");
      assert.ok(!/token_hash|code_hash|password_hash|\$argon2/.test(everything), "no hash of a secret is exported");
      assert.deepEqual(await archive.json("documents-not-included.json"), []);

      // The company's rules still apply: a suspended member's export leaves the company's files out.
      assert.equal((await a.post(`/v1/tenants/${tenantA}/members/${bobId}/suspend`)).status, 200);
      try {
        const suspended = await extract((await bobClient.get("/v1/me/export")).bytes);
        temps.push(suspended.dir);
        assert.ok(!suspended.files.some((name) => name.startsWith("documents/")), "no company file while suspended");
        assert.deepEqual(await suspended.json("documents-not-included.json"), [{ companyId: tenantA, reason: "account_suspended" }]);
        assert.equal((await suspended.json("profile.json")).email, bob.email, "the personal data is still there");
      } finally {
        assert.equal((await a.post(`/v1/tenants/${tenantA}/members/${bobId}/reactivate`)).status, 200);
      }
    });

    it("the owner exports the whole company; a member, an admin API key and another company cannot", async () => {
      assert.deepEqual([(await bobClient.post(`/v1/tenants/${tenantA}/export`)).status], [403]);
      const foreign = await c.post(`/v1/tenants/${tenantA}/export`);
      assert.deepEqual([foreign.status, foreign.json().error], [404, "not_found"]);
      const pdfId = await newDocument(a, tenantA, "Contract to sign");
      const pdfBytes = makeTestPdf(["Contract", "Page two"]);
      assert.equal((await a.request("PUT", `/v1/tenants/${tenantA}/documents/${pdfId}/content?baseVersion=0`, pdfBytes, { "x-content-type": "application/pdf" })).status, 201);
      const signature = await a.post(`/v1/tenants/${tenantA}/signature-requests`, {
        documentId: pdfId, order: "parallel", expiresAt: new Date(Date.now() + 7 * dayMs).toISOString(), recipients: [{ name: "Sam Signer", email: "sam@signers.example", role: "signer" }],
      });
      assert.equal(signature.status, 201, signature.text);
      const key = (await a.post(`/v1/tenants/${tenantA}/api-keys`, { name: "exporter", scopes: ["admin"] })).json().key as string;
      const byKey = await new WebClient(t.base, t.ca, { authorization: `Basic ${Buffer.from(key).toString("base64")}` }).post(`/v1/tenants/${tenantA}/export`);
      assert.deepEqual([byKey.status, byKey.json().error], [403, "forbidden"], "an API key, even an admin one, cannot export the company");
      const exportEvents = () => securityEvents.filter((event) => event.type === "mass_download" && event.details.export === "company");
      assert.equal(exportEvents().length, 0, "a refused export raises nothing");
      const response = await a.post(`/v1/tenants/${tenantA}/export`);
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(exportEvents().map((event) => [event.tenantId, event.userId]), [[tenantA, aliceId]], "the company's alert channels hear of the export");
      const archive = await extract(response.bytes);
      temps.push(archive.dir);
      const company = await archive.json("company.json");
      assert.equal(company.name, "Privacy Co");
      assert.deepEqual(company.members.map((m: { email: string; role: string }) => [m.email, m.role]).sort(), [[alice.email, "owner"], [bob.email, "member"]]);
      const report = await archive.json(`documents/${aliceDoc}/document.json`);
      assert.deepEqual(report.versions.map((v: { version: number; size: number }) => [v.version, v.size]), [[1, v1.length], [2, v2.length]]);
      assert.ok((await archive.read(`documents/${aliceDoc}/v1`)).equals(v1));
      assert.ok((await archive.read(`documents/${aliceDoc}/v2`)).equals(v2));
      assert.ok((await archive.read(`documents/${bobDoc}/v1`)).equals(bobFile));
      assert.equal((await archive.read(`documents/${pageId}/v1`)).toString("utf8"), pageText);
      const audit = (await archive.read("audit/000001.jsonl")).toString("utf8").trim().split("\n").map((line) => JSON.parse(line));
      assert.deepEqual(audit.slice(0, 3).map((record: { seq: number }) => record.seq), [1, 2, 3]);
      assert.ok(!archive.files.some((name) => name.includes(carolDoc)), "nothing of the other company");
      const request = await archive.json(`signatures/${signature.json().id}/request.json`);
      assert.deepEqual([request.documentId, request.status, request.recipients[0].email, request.final], [pdfId, "draft", "sam@signers.example", null]);
    });

    it("the sub-processors register is shown to members and to no one else", async () => {
      const listed = await bobClient.get(`/v1/tenants/${tenantA}/sub-processors`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.json().subProcessors, subProcessors);
      assert.equal((await c.get(`/v1/tenants/${tenantA}/sub-processors`)).status, 404);
    });

    it("retention: admins set it within limits, the sweep deletes trash past its age and prunes old audit records, and the chain still verifies", async () => {
      assert.deepEqual((await a.get(`/v1/tenants/${tenantA}/retention`)).json(), { trashDays: null, auditYears: null });
      for (const bad of [{ trashDays: 0, auditYears: null }, { trashDays: 5000, auditYears: null }, { trashDays: 30, auditYears: 1000 }, { trashDays: "30", auditYears: 1 }, { trashDays: 30 }]) {
        const refused = await a.request("PUT", `/v1/tenants/${tenantA}/retention`, bad);
        assert.deepEqual([refused.status, refused.json().error], [400, "validation_failed"], JSON.stringify(bad));
      }
      assert.equal((await bobClient.request("PUT", `/v1/tenants/${tenantA}/retention`, { trashDays: 1, auditYears: null })).status, 403);
      assert.equal((await c.request("PUT", `/v1/tenants/${tenantA}/retention`, { trashDays: 1, auditYears: null })).status, 404);
      const set = await a.request("PUT", `/v1/tenants/${tenantA}/retention`, { trashDays: 30, auditYears: 2 });
      assert.deepEqual(set.json(), { trashDays: 30, auditYears: 2 });

      const doomed = await newDocument(a, tenantA, "Old draft");
      await upload(a, tenantA, doomed, randomBytes(3000), 0);
      const blobKey = (await db().selectFrom("document_versions").select("blob_key").where("document_id", "=", doomed).executeTakeFirstOrThrow()).blob_key;
      assert.equal((await a.request("DELETE", `/v1/tenants/${tenantA}/documents/${doomed}`)).status, 200);
      const deps = { db: db(), vault: t.vault, blobStore };
      const in29Days = await enforceRetention({ ...deps, now: () => new Date(Date.now() + 29 * dayMs) });
      assert.equal(in29Days.documentsPurged, 0);
      assert.equal((await a.get(`/v1/tenants/${tenantA}/trash`)).json().documents.length, 1);
      const in31Days = await enforceRetention({ ...deps, now: () => new Date(Date.now() + 31 * dayMs) });
      assert.equal(in31Days.documentsPurged, 1);
      assert.equal((await a.get(`/v1/tenants/${tenantA}/trash`)).json().documents.length, 0);
      assert.equal(await blobStore.stat(blobKey), undefined, "the stored object is gone");
      assert.ok((await a.get(`/v1/tenants/${tenantA}/documents/${aliceDoc}`)).status === 200, "documents not in the trash stay");

      const before = Number((await db().selectFrom("audit_records").select((eb) => eb.fn.countAll<number>().as("n")).where("chain_id", "=", tenantA).executeTakeFirstOrThrow()).n);
      const in1Year = await enforceRetention({ ...deps, now: () => new Date(Date.now() + 365 * dayMs) });
      assert.equal(in1Year.auditRecordsPruned, 0, "nothing is two years old yet");
      const in3Years = await enforceRetention({ ...deps, now: () => new Date(Date.now() + 3 * 365 * dayMs) });
      assert.equal(in3Years.auditRecordsPruned, before - 1, "all but the newest record are past two years");
      assert.equal((await a.get(`/v1/tenants/${tenantA}/retention`)).status, 200, "the chain keeps growing after pruning");
      const [report] = await verifyAuditChains(db(), t.vault, tenantA);
      assert.deepEqual(report!.problems, []);
      assert.equal(report!.records, 2);
      // A forged anchor (someone deleting records and claiming retention did it) is found.
      const anchor = await db().selectFrom("audit_prune_anchors").selectAll().where("chain_id", "=", tenantA).executeTakeFirstOrThrow();
      await db().updateTable("audit_prune_anchors").set({ seq: anchor.seq + 0, at: "2020-01-01T00:00:00.000Z" }).where("chain_id", "=", tenantA).execute();
      const [forged] = await verifyAuditChains(db(), t.vault, tenantA);
      assert.ok(forged!.problems.some((problem) => problem.includes("retention anchor")), forged!.problems.join("; "));
      await db().updateTable("audit_prune_anchors").set({ at: anchor.at }).where("chain_id", "=", tenantA).execute();
    });

    it("an owner erases a member who belongs to no other company: their account and personal keys are gone, their documents stay with the company", async () => {
      assert.equal((await a.post(`/v1/tenants/${tenantA}/members/${bobId}/erasure`, {})).status, 400);
      assert.equal((await bobClient.post(`/v1/tenants/${tenantA}/members/${aliceId}/erasure`, { confirm: "erase" })).status, 403);
      assert.equal((await c.post(`/v1/tenants/${tenantA}/members/${bobId}/erasure`, { confirm: "erase" })).status, 404);
      assert.equal((await a.post(`/v1/tenants/${tenantA}/members/${aliceId}/erasure`, { confirm: "erase" })).status, 409);
      const bobRow = await db().selectFrom("users").select("email_ciphertext").where("id", "=", bobId).executeTakeFirstOrThrow();
      const erased = await a.post(`/v1/tenants/${tenantA}/members/${bobId}/erasure`, { confirm: "erase" });
      assert.deepEqual([erased.status, erased.json().status], [200, "erased"]);
      assert.equal(await db().selectFrom("users").select("id").where("id", "=", bobId).executeTakeFirst(), undefined);
      assert.equal(await db().selectFrom("sessions").select("id").where("user_id", "=", bobId).executeTakeFirst(), undefined);
      assert.equal(await db().selectFrom("tenant_keys").select("tenant_id").where("tenant_id", "=", `user:${bobId}`).executeTakeFirst(), undefined);
      await assert.rejects(t.vault.data.openString({ tenantId: `user:${bobId}`, objectType: "user", objectId: bobId, objectVersion: 1, field: "email" }, bobRow.email_ciphertext), { code: "key_not_found" });
      assert.equal((await bobClient.get("/v1/auth/session")).status, 401, "Bob's session ended");
      const stays = await a.get(`/v1/tenants/${tenantA}/documents/${bobDoc}/content`);
      assert.ok(stays.bytes.equals(bobFile), "the company keeps what Bob wrote");
      const alerts = securityEvents.filter((event) => event.type === "data_erased");
      assert.deepEqual(alerts.map((event) => [event.tenantId, event.userId, event.details.scope, event.details.erasedUserId]), [[tenantA, aliceId, "member", bobId]],
        "the company's alert channels hear of it, once, and refused attempts raise nothing");
    });

    it("a person erases themselves only with the right confirmation, and never as a company's only owner", async () => {
      const wrong = await c.post("/v1/me/erasure", { confirmEmail: "someone@else.example" });
      assert.deepEqual([wrong.status, wrong.json().error], [400, "confirmation_mismatch"]);
      const soleOwner = await c.post("/v1/me/erasure", { confirmEmail: carol.email });
      assert.deepEqual([soleOwner.status, soleOwner.json().error], [409, "conflict"]);
      assert.equal((await c.get("/v1/auth/session")).status, 200, "nothing happened");
      assert.equal(securityEvents.filter((event) => event.type === "data_erased" && event.details.scope === "account").length, 0, "refused: no alert");
    });

    it("an owner erases the company: keys shredded, rows and stored objects gone, the other company untouched; an older copy restored with the shred list cannot open it", async () => {
      oldCopy = await copyTestDatabase(t.test);
      const versionRow = await db().selectFrom("document_versions").selectAll().where("tenant_id", "=", tenantA).where("document_id", "=", aliceDoc).where("version", "=", 2).executeTakeFirstOrThrow();
      const sealedBlob = await readAll(await blobStore.get(versionRow.blob_key));
      const carolRow = await db().selectFrom("document_versions").selectAll().where("tenant_id", "=", tenantC).where("document_id", "=", carolDoc).executeTakeFirstOrThrow();

      const mismatch = await a.post(`/v1/tenants/${tenantA}/erasure`, { companyName: "Privacy Company" });
      assert.deepEqual([mismatch.status, mismatch.json().error], [400, "confirmation_mismatch"]);
      assert.equal((await a.post(`/v1/tenants/${tenantA}/erasure`, {})).status, 400);
      assert.equal((await c.post(`/v1/tenants/${tenantA}/erasure`, { companyName: "Privacy Co" })).status, 404);
      const erased = await a.post(`/v1/tenants/${tenantA}/erasure`, { companyName: "Privacy Co" });
      assert.deepEqual([erased.status, erased.json().status], [200, "erased"], erased.text);

      assert.equal((await a.get(`/v1/tenants/${tenantA}`)).status, 404);
      assert.equal(await blobStore.stat(versionRow.blob_key), undefined, "stored objects are deleted");
      const left: string[] = [];
      for await (const key of blobStore.list(`t/${tenantA}/`)) left.push(key);
      assert.deepEqual(left, [], "nothing is left under the company's prefix");
      const others: string[] = [];
      for await (const key of blobStore.list(`t/${tenantC}/`)) others.push(key);
      assert.ok(others.length >= 1, "the other company's objects stay");
      const tables = (await db().introspection.getTables()).filter((table) => table.columns.some((column) => column.name === "tenant_id"));
      for (const table of tables) {
        if (table.name === "audit_records" || table.name === "sessions") continue;
        const left = await (db() as any).selectFrom(table.name).select("tenant_id").where("tenant_id", "=", tenantA).executeTakeFirst();
        assert.equal(left, undefined, `no row of the erased company is left in ${table.name}`);
      }
      const other = await c.get(`/v1/tenants/${tenantC}/documents/${carolDoc}/content`);
      assert.ok(other.bytes.equals(carolFile), "the other company's document is untouched");
      assert.equal((await a.get("/v1/auth/session")).status, 200, "Alice's account outlives her company");
      const companyAlert = securityEvents.filter((event) => event.type === "data_erased" && event.details.scope === "company");
      assert.deepEqual(companyAlert.map((event) => [event.tenantId, event.userId, event.details.erasedTenantId]), [[null, aliceId, tenantA]],
        "the operator hears of it (the company's own channels are gone with it)");

      // The older copy, restored with the same custodian share: the shred list is applied first.
      const restored = createVault(createVaultRepository(oldCopy.database.db));
      await restored.submitShare(t.shares![0]!);
      assert.ok((await restored.tenantKeys.applyShredList(await t.vault.tenantKeys.shredList())) >= 1);
      await assert.rejects(readAll(bufferStream(sealedBlob).pipe(restored.data.createOpenStream(contentContext(tenantA, aliceDoc, 2)))), { code: "key_not_found" });
      const carolSealed = await readAll(await blobStore.get(carolRow.blob_key));
      const opened = await readAll(bufferStream(carolSealed).pipe(restored.data.createOpenStream(contentContext(tenantC, carolDoc, carolRow.version))));
      assert.ok(opened.equals(carolFile), "the other company's data opens from the restored copy");

      const record = await db().selectFrom("audit_records").selectAll().where("chain_id", "=", tenantA).where("action", "=", "POST /v1/tenants/:tenantId/erasure")
        .where("result", "=", "ok").executeTakeFirstOrThrow();
      assert.deepEqual([record.actor_id, JSON.parse(record.details).keysDestroyed >= 1], [aliceId, true], "the erasure is in the company's audit trail");

      // The sweep drops the erased company's audit chain once the erasure's own record is complete.
      const recorded: string[] = [];
      const soon = await enforceRetention({ db: db(), vault: t.vault, blobStore, now: () => new Date(), recordShredded: async (owner) => { recorded.push(owner); } });
      assert.equal(soon.auditChainsDropped, 0);
      assert.ok(recorded.includes(tenantA) && recorded.includes(`user:${bobId}`), "the sweep hands the shred list to the backup destinations");
      const later = await enforceRetention({ db: db(), vault: t.vault, blobStore, now: () => new Date(Date.now() + 2 * 3600_000) });
      assert.equal(later.auditChainsDropped, 1);
      assert.equal(await db().selectFrom("audit_records").select("id").where("chain_id", "=", tenantA).executeTakeFirst(), undefined);
    });

    it("an erasure cut off after the keys were destroyed is finished by the retention sweep", async () => {
      const dave = { email: "dave@half.example", password: "dave stops half way 4444", name: "Dave" };
      const { client: d, tenantId: tenantD } = await t.signUp(dave, "Half Co");
      const documentId = await newDocument(d, tenantD, "Half");
      await upload(d, tenantD, documentId, randomBytes(2000), 0);
      const blobKey = (await db().selectFrom("document_versions").select("blob_key").where("tenant_id", "=", tenantD).executeTakeFirstOrThrow()).blob_key;
      // What a node that stopped right after crypto-shredding leaves behind: unreadable rows and objects.
      await t.vault.tenantKeys.destroy(tenantD);
      assert.equal((await d.get(`/v1/tenants/${tenantD}/documents/${documentId}/content`)).status, 404, "nothing of it opens any more");
      assert.equal((await d.post(`/v1/tenants/${tenantD}/documents`, { title: "new" })).status, 404, "no fresh key is made for it");
      // An export that cannot be completed is cut off, never presented as complete, and the server carries on.
      const cut = await d.post(`/v1/tenants/${tenantD}/export`).then((response) => response, (error: Error) => error);
      if (!(cut instanceof Error)) {
        const dir = await mkdtemp(join(tmpdir(), "sr-cut-"));
        temps.push(dir);
        await writeFile(join(dir, "cut.tar"), cut.bytes);
        const listed = await run("tar", ["-tf", join(dir, "cut.tar")]).then((result) => result.stdout, () => "");
        assert.ok(!listed.includes("checksums/"), "a cut-off archive never carries its closing checksums");
      }
      assert.equal((await c.get("/v1/auth/session")).status, 200, "the server is still serving");
      const report = await enforceRetention({ db: db(), vault: t.vault, blobStore, now: () => new Date() });
      assert.equal(report.erasuresFinished, 1);
      assert.equal(await db().selectFrom("tenants").select("id").where("id", "=", tenantD).executeTakeFirst(), undefined);
      assert.equal(await db().selectFrom("documents").select("id").where("tenant_id", "=", tenantD).executeTakeFirst(), undefined);
      assert.equal(await blobStore.stat(blobKey), undefined);
      assert.equal((await enforceRetention({ db: db(), vault: t.vault, blobStore, now: () => new Date() })).erasuresFinished, 0, "once is enough");
    });

    it("a person who owns no company any more erases their own account", async () => {
      const erased = await a.post("/v1/me/erasure", { confirmEmail: ` ${alice.email.toUpperCase()} ` });
      assert.deepEqual([erased.status, erased.json().status], [200, "erased"], erased.text);
      assert.equal((await a.get("/v1/auth/session")).status, 401);
      assert.equal(await db().selectFrom("users").select("id").where("id", "=", aliceId).executeTakeFirst(), undefined);
      assert.ok((await t.vault.tenantKeys.shredList()).some((entry) => entry.keyOwner === `user:${aliceId}`));
      const record = await db().selectFrom("audit_records").selectAll().where("action", "=", "POST /v1/me/erasure").where("actor_id", "=", aliceId)
        .where("result", "=", "ok").executeTakeFirstOrThrow();
      assert.equal(record.chain_id, "system");
      const login = await new WebClient(t.base, t.ca).post("/v1/auth/login", { email: alice.email, password: alice.password });
      assert.equal(login.status, 401, "the erased account cannot sign in");
      const accountAlert = securityEvents.filter((event) => event.type === "data_erased" && event.details.scope === "account");
      assert.deepEqual(accountAlert.map((event) => [event.tenantId, event.details.erasedUserId]), [[null, aliceId]]);
    });
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function bufferStream(bytes: Buffer) {
  return Readable.from([bytes]);
}

import { Readable } from "node:stream";
