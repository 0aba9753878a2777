// Documents and pages end to end: on SQLite with the file-system blob store and on PostgreSQL with a
// real S3-protocol server. Rights (grants, inheritance, role ceilings, 404 without view), versions and
// optimistic concurrency, Range reads, restore, trash, limits, and no plaintext at rest.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { createS3BlobStore } from "../../src/store/blob-store-s3.ts";
import { removeAbandonedUploads } from "../../src/modules/documents/document-content.ts";
import type { BlobStore } from "../../src/store/blob-store.ts";
import { databaseKinds, skipReason } from "../support/databases.ts";
import { startS3Server } from "../support/s3-server.ts";
import { inviteAndSignIn, startTestApp, type TestApp } from "../support/signed-in-app.ts";
import type { WebClient } from "../support/web-client.ts";

const marker = `DOCMARKER-${randomBytes(6).toString("hex")}`;
const alice = { email: "alice@docs.example", password: "alice keeps the documents 1", name: "Alice" };
const bob = { email: "bob@docs.example", password: "bob is a plain member here 2", name: "Bob" };
const vic = { email: "vic@docs.example", password: "vic only views documents 3", name: "Vic" };
const carol = { email: "carol@other.example", password: "carol runs another company", name: "Carol" };
const maxUploadBytes = 2 * 1024 * 1024;

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true, recursive: true })).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

for (const kind of databaseKinds) {
  const storeName = kind === "sqlite" ? "file system" : "S3";
  describe(`documents and pages (${kind}, ${storeName} blobs)`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let s3: Awaited<ReturnType<typeof startS3Server>> | undefined;
    let blobStore: BlobStore;
    let blobDir: string;
    let a: WebClient;
    let tenantA: string;
    let bobClient: WebClient;
    let bobId: string;
    let vicClient: WebClient;
    let vicId: string;
    let carolClient: WebClient;
    let folderId: string;
    let documentId: string;
    const v1 = Buffer.concat([Buffer.from(`%PDF-1.7\n${marker} first\n`), randomBytes(300_000)]);
    const v2 = Buffer.concat([Buffer.from(`%PDF-1.7\n${marker} second\n`), randomBytes(200_000)]);
    const docPath = () => `/v1/tenants/${tenantA}/documents/${documentId}`;
    const upload = (client: WebClient, path: string, bytes: Buffer, baseVersion: number, extra: Record<string, string> = {}) =>
      client.request("PUT", `${path}/content?baseVersion=${baseVersion}`, bytes, { "x-content-type": "application/pdf", "x-filename": encodeURIComponent("contract é.pdf"), ...extra });

    before(async () => {
      if (kind === "postgres") s3 = await startS3Server();
      t = await startTestApp(kind, async ({ dir }) => {
        blobDir = join(dir, "blobs");
        blobStore = s3
          ? createS3BlobStore({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true })
          : createFileBlobStore(blobDir);
        return { documents: { blobStore, maxUploadBytes } };
      });
      ({ client: a, tenantId: tenantA } = await t.signUp(alice, "Docs Co"));
      ({ client: bobClient, userId: bobId } = await inviteAndSignIn(t, a, tenantA, bob, "member"));
      ({ client: vicClient, userId: vicId } = await inviteAndSignIn(t, a, tenantA, vic, "viewer"));
      ({ client: carolClient } = await t.signUp(carol, "Other Co"));
    });

    after(async () => {
      await t?.close();
      await s3?.close();
    });

    it("uploads a file into a folder as version 1, and a new version with the right base", async () => {
      folderId = (await a.post(`/v1/tenants/${tenantA}/folders`, { name: `Legal ${marker}` })).json().id;
      const created = await a.post(`/v1/tenants/${tenantA}/documents`, { title: `Contract ${marker}`, folderId });
      assert.equal(created.status, 201, created.text);
      documentId = created.json().id;
      const first = await upload(a, docPath(), v1, 0);
      assert.deepEqual([first.status, first.json().version, first.json().size], [201, 1, v1.length], first.text);
      const second = await upload(a, docPath(), v2, 1);
      assert.deepEqual([second.status, second.json().version], [201, 2]);
      const meta = (await a.get(docPath())).json();
      assert.deepEqual([meta.title, meta.version, meta.size, meta.contentType, meta.breadcrumbs[0].name], [`Contract ${marker}`, 2, v2.length, "application/pdf", `Legal ${marker}`]);
    });

    it("refuses an edit based on an old version, and nothing changes", async () => {
      const stale = await upload(a, docPath(), randomBytes(1000), 1);
      assert.deepEqual([stale.status, stale.json().error], [409, "conflict"]);
      assert.equal((await a.get(docPath())).json().version, 2);
    });

    it("downloads exactly the bytes, and Range reads return exactly the requested bytes", async () => {
      const whole = await a.get(`${docPath()}/content`);
      assert.equal(whole.status, 200);
      assert.ok(whole.bytes.equals(v2));
      assert.match(String(whole.headers["content-disposition"]), /contract%20%C3%A9\.pdf/);
      const old = await a.get(`${docPath()}/content?version=1`);
      assert.ok(old.bytes.equals(v1));
      for (const [header, start, end] of [["bytes=0-0", 0, 0], ["bytes=10-99", 10, 99], ["bytes=150000-", 150000, v2.length - 1], ["bytes=-500", v2.length - 500, v2.length - 1], ["bytes=65530-131080", 65530, 131080]] as const) {
        const part = await a.request("GET", `${docPath()}/content`, undefined, { range: header });
        assert.equal(part.status, 206, header);
        assert.equal(part.headers["content-range"], `bytes ${start}-${end}/${v2.length}`);
        assert.ok(part.bytes.equals(v2.subarray(start, end + 1)), header);
      }
      const bad = await a.request("GET", `${docPath()}/content`, undefined, { range: `bytes=${v2.length}-` });
      assert.deepEqual([bad.status, bad.headers["content-range"]], [416, `bytes */${v2.length}`]);
    });

    it("a member without a grant gets 404 for the document, its versions and its content, and does not see it listed", async () => {
      for (const path of [docPath(), `${docPath()}/versions`, `${docPath()}/content`, `/v1/tenants/${tenantA}/folders/${folderId}`]) {
        const response = await bobClient.get(path);
        assert.deepEqual([response.status, response.json().error], [404, "not_found"], path);
      }
      const root = (await bobClient.get(`/v1/tenants/${tenantA}/folders/root`)).json();
      assert.deepEqual([root.folders.length, root.documents.length], [0, 0]);
      assert.equal((await upload(bobClient, docPath(), randomBytes(10), 2)).status, 404);
    });

    it("a view grant on the folder flows down; edit lets a member upload; a viewer never edits", async () => {
      assert.equal((await a.request("PUT", `/v1/tenants/${tenantA}/grants`, { resourceType: "folder", resourceId: folderId, principalType: "user", principalId: bobId, permission: "view" })).status, 200);
      const listed = (await bobClient.get(`/v1/tenants/${tenantA}/folders/root`)).json();
      assert.equal(listed.folders.length, 1);
      assert.ok((await bobClient.get(`${docPath()}/content`)).bytes.equals(v2));
      const refused = await upload(bobClient, docPath(), randomBytes(10), 2);
      assert.deepEqual([refused.status, refused.json().error], [403, "forbidden"]);
      await a.request("PUT", `/v1/tenants/${tenantA}/grants`, { resourceType: "document", resourceId: documentId, principalType: "user", principalId: bobId, permission: "edit" });
      const bobsVersion = randomBytes(5000);
      const edited = await upload(bobClient, docPath(), bobsVersion, 2);
      assert.equal(edited.json().version, 3, edited.text);
      await a.request("PUT", `/v1/tenants/${tenantA}/grants`, { resourceType: "folder", resourceId: folderId, principalType: "user", principalId: vicId, permission: "manage" });
      assert.equal((await vicClient.get(`${docPath()}/content`)).status, 200);
      const vicEdit = await upload(vicClient, docPath(), randomBytes(10), 3);
      assert.deepEqual([vicEdit.status, vicEdit.json().error], [403, "forbidden"]);
      assert.equal((await vicClient.request("DELETE", docPath())).status, 403);
      assert.equal((await bobClient.request("PUT", `/v1/tenants/${tenantA}/grants`, { resourceType: "document", resourceId: documentId, principalType: "user", principalId: vicId, permission: "manage" })).status, 403);
    });

    it("restoring a version makes a new version that is byte-identical", async () => {
      const restored = await a.post(`${docPath()}/versions/1/restore`, { baseVersion: 3 });
      assert.deepEqual([restored.status, restored.json().version, restored.json().restoredFrom], [201, 4, 1], restored.text);
      assert.ok((await a.get(`${docPath()}/content`)).bytes.equals(v1));
      const versions = (await a.get(`${docPath()}/versions`)).json().versions;
      assert.deepEqual(versions.map((v: { version: number }) => v.version), [4, 3, 2, 1]);
    });

    it("pages: Markdown versions with optimistic concurrency", async () => {
      const page = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Handbook", kind: "page" })).json().id;
      const path = `/v1/tenants/${tenantA}/pages/${page}`;
      assert.equal((await a.request("PUT", path, { text: `# Handbook\n\n${marker} page text`, baseVersion: 0 })).json().version, 1);
      const conflict = await a.request("PUT", path, { text: "lost update", baseVersion: 0 });
      assert.deepEqual([conflict.status, conflict.json().error], [409, "conflict"]);
      assert.equal((await a.request("PUT", path, { text: "# Handbook\n\nSecond edit", baseVersion: 1 })).json().version, 2);
      const read = (await a.get(path)).json();
      assert.deepEqual([read.text, read.version, read.kind], ["# Handbook\n\nSecond edit", 2, "page"]);
    });

    it("folder listings come in pages with a cursor, each document once", async () => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index++) {
        const created = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: `Paged ${index}` })).json().id as string;
        await upload(a, `/v1/tenants/${tenantA}/documents/${created}`, Buffer.from(`paged ${index}`), 0);
        ids.push(created);
      }
      const seen: string[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const listing = (await a.get(`/v1/tenants/${tenantA}/folders/root?limit=2${after ? `&after=${after}` : ""}`)).json();
        seen.push(...listing.documents.map((document: { id: string }) => document.id));
        assert.ok(listing.documents.length <= 2);
        after = listing.next;
        if (!after) break;
      }
      for (const created of ids) assert.equal(seen.filter((seenId) => seenId === created).length, 1);
      assert.equal((await bobClient.get(`/v1/tenants/${tenantA}/folders/root?limit=2`)).json().documents.length, 0, "a member without grants sees none of them");
    });

    it("another company's ids all give 404", async () => {
      const paths = [docPath(), `${docPath()}/content`, `${docPath()}/versions`, `/v1/tenants/${tenantA}/folders/${folderId}`, `/v1/tenants/${tenantA}/folders/root`, `/v1/tenants/${tenantA}/trash`];
      for (const path of paths) assert.equal((await carolClient.get(path)).status, 404, path);
      assert.equal((await upload(carolClient, docPath(), randomBytes(10), 4)).status, 404);
      assert.equal((await carolClient.request("DELETE", docPath())).status, 404);
      assert.equal((await carolClient.post(`${docPath()}/versions/1/restore`, { baseVersion: 4 })).status, 404);
    });

    it("trash: deleted documents vanish, can be restored, and emptying removes their blobs", async () => {
      assert.equal((await a.request("DELETE", docPath())).json().status, "in_trash");
      assert.equal((await a.get(docPath())).status, 404);
      assert.equal((await a.get(`/v1/tenants/${tenantA}/trash`)).json().documents.length, 1);
      assert.equal((await a.post(`/v1/tenants/${tenantA}/trash/${documentId}/restore`)).status, 200);
      assert.equal((await a.get(docPath())).status, 200);
      const doomed = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Doomed" })).json().id;
      await upload(a, `/v1/tenants/${tenantA}/documents/${doomed}`, randomBytes(1000), 0);
      await a.request("DELETE", `/v1/tenants/${tenantA}/documents/${doomed}`);
      const keysBefore = await countBlobs();
      assert.equal((await a.request("DELETE", `/v1/tenants/${tenantA}/trash`)).json().deleted, 1);
      assert.equal(await countBlobs(), keysBefore - 1);
    });

    it("an oversized upload gets 413 and leaves no version and no blob", async () => {
      const before = await countBlobs();
      const big = await upload(a, docPath(), randomBytes(maxUploadBytes + 1), 4);
      assert.deepEqual([big.status, big.json().error], [413, "payload_too_large"]);
      assert.equal((await a.get(docPath())).json().version, 4);
      assert.equal(await countBlobs(), before);
      assert.equal(await removeAbandonedUploads(t.test.database.db, blobStore), 0, "nothing half-written was left behind");
    });

    it("no file, database row or stored object holds a marker in plaintext", async () => {
      const stored = kind === "sqlite"
        ? (await Promise.all((await filesUnder(t.test.dataDir!)).map((file) => readFile(file)))).map((bytes) => bytes.toString("latin1")).join("")
        : (await promisify(execFile)("pg_dump", ["--data-only", (t.test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      assert.ok(stored.includes(tenantA), "the dump is searchable");
      assert.ok(!stored.includes(marker), "a marker is in the database");
      const blobFiles = await filesUnder(s3 ? s3.directory : blobDir);
      assert.ok(blobFiles.length >= 4);
      for (const file of blobFiles) assert.ok(!(await readFile(file)).includes(marker), `a marker is in ${file}`);
    });

    async function countBlobs(): Promise<number> {
      let count = 0;
      for await (const _key of blobStore.list("t/")) count += 1;
      return count;
    }
  });
}
