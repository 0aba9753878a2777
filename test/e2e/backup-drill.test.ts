// Restore drill, on SQLite and on PostgreSQL, through the real `strongroom backup` commands: companies,
// users, documents with versions and pages are made over HTTPS; `backup run` writes to a directory
// and to a real S3-protocol server; the originals are destroyed; `backup restore` from the S3
// destination onto an empty database and blob store, with the custodians' shares; the restored
// installation, unsealed with the shares, serves every document byte-identical, and a signature request
// sealed before the backup is still completed, its final PDF byte-identical and its seal verifying.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { openDatabase, type DatabaseConfig } from "../../src/store/database.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import { startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { runCli } from "../support/server-process.ts";
import { inviteAndSignIn, startTestApp, type TestApp } from "../support/signed-in-app.ts";
import { tokenIn } from "../support/mail-server.ts";
import { makeTestPdf } from "../support/sample-pdf.ts";
import { WebClient } from "../support/web-client.ts";

const alice = { email: "alice@drill.example", password: "alice restores everything 1", name: "Alice" };
const bob = { email: "bob@drill.example", password: "bob restores everything 22", name: "Bob" };
const carol = { email: "carol@other.example", password: "carol restores everything 3", name: "Carol" };

type Expected = { tenant: "a" | "c"; id: string; kind: "file" | "page"; versions: Buffer[]; text?: string };

type SealedRequest = { documentId: string; requestId: string; finalPdf: Buffer; sha256: string };

// A PDF sent to one signer, signed through the link and PIN from the mailbox, completed and sealed.
async function sealASignatureRequest(app: TestApp, a: WebClient, tenantId: string): Promise<SealedRequest> {
  const signer = { name: "Dana Drill", email: "dana@drill-signers.example" };
  const documentId = (await a.post(`/v1/tenants/${tenantId}/documents`, { title: "Drill contract" })).json().id as string;
  const pdf = makeTestPdf(["Contract kept through a restore drill"]);
  assert.equal((await a.request("PUT", `/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=0`, pdf, { "x-content-type": "application/pdf" })).status, 201);
  const since = app.mail.received.length;
  const created = await a.post(`/v1/tenants/${tenantId}/signature-requests`, {
    documentId, order: "parallel", expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(), send: true, recipients: [{ ...signer, role: "signer" }],
  });
  assert.equal(created.status, 201, created.text);
  let mails = app.mail.received.slice(since).filter((mail) => mail.to.includes(signer.email));
  for (let attempt = 0; attempt < 100 && mails.length < 2; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    mails = app.mail.received.slice(since).filter((mail) => mail.to.includes(signer.email));
  }
  const token = tokenIn(mails.find((mail) => mail.text.includes("#token=")) ?? assert.fail("no link e-mail"));
  const pin = /PIN (\d{6})/.exec(mails.find((mail) => /PIN \d{6}/.test(mail.text))?.text ?? "")?.[1] ?? assert.fail("no PIN e-mail");
  const stranger = new WebClient(app.base, app.ca);
  const session = { "x-signing-session": (await stranger.post(`/v1/sign/${token}/pin`, { pin })).json().session as string };
  assert.equal((await stranger.request("POST", `/v1/sign/${token}/consent`, {}, session)).status, 200);
  const fields = (await stranger.request("GET", `/v1/sign/${token}/request`, undefined, session)).json().fields as { id: string; kind: string }[];
  const signed = await stranger.request("POST", `/v1/sign/${token}/sign`, { fields: fields.map((field) => ({ fieldId: field.id, value: field.kind === "checkbox" ? "true" : "Dana Drill" })) }, session);
  assert.equal(signed.status, 200, signed.text);
  const requestId = created.json().id as string;
  const done = (await a.get(`/v1/tenants/${tenantId}/signature-requests/${requestId}`)).json();
  assert.equal(done.status, "completed");
  const finalPdf = (await a.get(`/v1/tenants/${tenantId}/signature-requests/${requestId}/final-pdf`)).bytes;
  assert.equal((await stranger.request("POST", "/v1/verify", finalPdf, { "content-type": "application/pdf" })).json().status, "sealed");
  return { documentId, requestId, finalPdf, sha256: createHash("sha256").update(finalPdf).digest("hex") };
}

for (const kind of databaseKinds) {
  describe(`restore drill (${kind}): real CLI, directory + S3, originals destroyed`, { skip: await skipReason(kind) }, () => {
    let s3: TestS3Server;
    let dir: string;
    let app: TestApp;
    let shares: string[];
    const expected: Expected[] = [];
    let sealed: SealedRequest | undefined;
    let backupId: string;
    let originalDatabase: DatabaseConfig;

    const configFile = async (name: string, database: DatabaseConfig, blobDir: string) => {
      const file = join(dir, `${name}.json`);
      await writeFile(file, JSON.stringify({
        dataDir: join(dir, `${name}-data`),
        database: database.kind === "sqlite" ? { kind: "sqlite", path: database.path } : { kind: "postgres", url: database.url },
        blobStore: { kind: "fs", directory: blobDir },
        logLevel: "silent",
        backup: {
          destinations: [
            { name: "local", kind: "directory", path: join(dir, "backups-local") },
            { name: "offsite", kind: "s3", endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, prefix: "drill", accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true },
          ],
        },
      }));
      return file;
    };

    before(async () => {
      s3 = await startS3Server();
      dir = await mkdtemp(join(tmpdir(), "sr-drill-"));
      app = await startTestApp(kind, async () => ({ documents: { blobStore: createFileBlobStore(join(dir, "blobs")), maxUploadBytes: 8 * 1024 * 1024 } }));
      shares = app.shares!;
      originalDatabase = app.test.config;
    });

    after(async () => {
      await app?.close().catch(() => undefined);
      await s3?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("creates companies, users, documents with versions, and pages", async () => {
      const { client: a, tenantId: tenantA } = await app.signUp(alice, "Drill Co");
      await inviteAndSignIn(app, a, tenantA, bob, "member");
      const { client: c, tenantId: tenantC } = await app.signUp(carol, "Other Co");
      const folder = (await a.post(`/v1/tenants/${tenantA}/folders`, { name: "Contracts" })).json().id as string;
      for (const [client, tenant, tenantId] of [[a, "a", tenantA], [c, "c", tenantC]] as const) {
        for (let index = 0; index < 3; index++) {
          const id = (await client.post(`/v1/tenants/${tenantId}/documents`, { title: `Doc ${index}`, ...(tenant === "a" ? { folderId: folder } : {}) })).json().id as string;
          const versions = [randomBytes(20_000 + index * 150_000), randomBytes(5_000 + index * 90_000)];
          for (const [version, bytes] of versions.entries()) {
            const stored = await client.request("PUT", `/v1/tenants/${tenantId}/documents/${id}/content?baseVersion=${version}`, bytes, { "x-content-type": "application/pdf" });
            assert.equal(stored.status, 201, stored.text);
          }
          expected.push({ tenant, id, kind: "file", versions });
        }
        const page = (await client.post(`/v1/tenants/${tenantId}/documents`, { title: "Handbook", kind: "page" })).json().id as string;
        const text = `# Handbook of ${tenant}\n\n${randomBytes(2000).toString("base64")}`;
        assert.equal((await client.request("PUT", `/v1/tenants/${tenantId}/pages/${page}`, { text, baseVersion: 0 })).status, 200);
        expected.push({ tenant, id: page, kind: "page", versions: [], text });
      }
      sealed = await sealASignatureRequest(app, a, tenantA);
    });

    it("`backup run` writes a verified copy to both destinations; `backup list` and `backup verify` agree", async () => {
      const config = await configFile("original", originalDatabase, join(dir, "blobs"));
      const ran = await runCli(["backup", "run", "--json", "--config", config], { stdin: `${shares.join("\n")}\n` });
      assert.equal(ran.code, 0, ran.stderr + ran.stdout);
      const summary = JSON.parse(ran.stdout);
      assert.deepEqual(summary.destinations.map((outcome: { name: string; ok: boolean }) => [outcome.name, outcome.ok]), [["local", true], ["offsite", true]]);
      backupId = summary.id;
      const listed = await runCli(["backup", "list", "--json", "--config", config]);
      assert.equal(listed.code, 0, listed.stderr);
      for (const destination of JSON.parse(listed.stdout).destinations) assert.deepEqual(destination.good.map((backup: { id: string }) => backup.id), [backupId]);
      const verified = await runCli(["backup", "verify", backupId, "--destination", "offsite", "--config", config]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /^ok/);
    });

    it("after the originals are destroyed, `backup restore` from S3 brings back every document byte-identical, once unsealed with the shares", async () => {
      await app.close();
      await rm(join(dir, "blobs"), { recursive: true, force: true });
      await rm(join(dir, "backups-local"), { recursive: true, force: true }); // only the S3 copy is left

      let target: TestDatabase;
      if (kind === "sqlite") {
        const targetDir = await mkdtemp(join(tmpdir(), "sr-drill-restored-"));
        const config: DatabaseConfig = { kind: "sqlite", path: join(targetDir, "strongroom.db") };
        target = { database: undefined as never, config, dataDir: targetDir, cleanup: () => rm(targetDir, { recursive: true, force: true }) };
      } else {
        const empty = await openTestDatabase(kind, { migrate: false });
        target = empty;
      }
      const restoredBlobs = join(dir, "restored-blobs");
      const config = await configFile("restored", target.config, restoredBlobs);
      const wrong = await runCli(["backup", "restore", backupId, "--destination", "offsite", "--config", config], { stdin: "srs1-0000-00-00\n" });
      assert.equal(wrong.code, 1, wrong.stderr);
      const restored = await runCli(["backup", "restore", backupId, "--destination", "offsite", "--json", "--config", config], { stdin: `${shares.join("\n")}\n` });
      assert.equal(restored.code, 0, restored.stderr + restored.stdout);
      assert.equal(JSON.parse(restored.stdout).blobs, expected.filter((entry) => entry.kind === "file").length * 2 + expected.filter((entry) => entry.kind === "page").length + 2 /* the signed PDF's version and its sealed final PDF */);

      if (kind === "sqlite") target.database = await openDatabase(target.config);
      app = await startTestApp(kind, async () => ({ documents: { blobStore: createFileBlobStore(restoredBlobs), maxUploadBytes: 8 * 1024 * 1024 } }), { test: target, shares });
      const a = await app.signIn(alice);
      const c = await app.signIn(carol);
      const tenantOf = async (client: WebClient) => (await client.get("/v1/auth/session")).json().tenants[0].id as string;
      const tenants = { a: await tenantOf(a), c: await tenantOf(c) };
      await app.signIn(bob);
      for (const entry of expected) {
        const client = entry.tenant === "a" ? a : c;
        const base = `/v1/tenants/${tenants[entry.tenant]}`;
        if (entry.kind === "page") {
          const page = await client.get(`${base}/pages/${entry.id}`);
          assert.equal(page.json().text, entry.text);
          continue;
        }
        for (const [index, bytes] of entry.versions.entries()) {
          const content = await client.get(`${base}/documents/${entry.id}/content?version=${index + 1}`);
          assert.equal(content.status, 200, content.text);
          assert.ok(content.bytes.equals(bytes), `document ${entry.id} version ${index + 1} byte-identical`);
        }
      }
      // The sealed signature request: still completed, its final PDF byte-identical, its seal verifying.
      assert.ok(sealed, "a request was sealed before the backup");
      const request = (await a.get(`/v1/tenants/${tenants.a}/signature-requests/${sealed.requestId}`)).json();
      assert.deepEqual([request.status, request.final?.sha256], ["completed", sealed.sha256]);
      const finalPdf = await a.get(`/v1/tenants/${tenants.a}/signature-requests/${sealed.requestId}/final-pdf`);
      assert.equal(finalPdf.status, 200, finalPdf.text);
      assert.ok(finalPdf.bytes.equals(sealed.finalPdf), "the final PDF is byte-identical");
      const verified = await new WebClient(app.base, app.ca).request("POST", "/v1/verify", finalPdf.bytes, { "content-type": "application/pdf" });
      assert.equal(verified.json().status, "sealed", verified.text);
    });
  });
}
