// P6: after writes through the vault, no file under the data directory, no database row (SQLite file
// or pg_dump of PostgreSQL) and no object in the S3 bucket holds a known plaintext marker; and a
// ciphertext moved to another row or tenant does not open.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { text } from "node:stream/consumers";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { createS3BlobStore } from "../../src/store/blob-store-s3.ts";
import type { BlobStore } from "../../src/store/blob-store.ts";
import { createVault, type Vault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import { startS3Server } from "../support/s3-server.ts";

const marker = `MARKER-${randomBytes(8).toString("hex")}-plaintext`;
const control = `CONTROL-${randomBytes(8).toString("hex")}`;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of await filesUnder(dir)) {
    if ((await readFile(file)).includes(needle)) found.push(file);
  }
  return found;
}

for (const kind of databaseKinds) {
  describe(`no plaintext at rest (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let blobDir: string;
    let s3: Awaited<ReturnType<typeof startS3Server>>;
    let stores: { name: string; store: BlobStore }[];
    const nameContext = (tenantId: string) => ({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field: "name" });
    const blobContext = (tenantId: string, id: string) => ({ tenantId, objectType: "blob", objectId: id, objectVersion: 1 });
    const document = Buffer.from(`${marker}\n`.repeat(50_000));

    before(async () => {
      test = await openTestDatabase(kind);
      blobDir = await mkdtemp(join(tmpdir(), "sr-blobs-"));
      s3 = await startS3Server();
      stores = [
        { name: "fs", store: createFileBlobStore(blobDir) },
        { name: "s3", store: createS3BlobStore({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true }) },
      ];
      vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);

      for (const tenantId of ["tenant-a", "tenant-b"]) {
        await test.database.db.insertInto("tenants").values({
          id: tenantId,
          name_ciphertext: await vault.data.sealString(nameContext(tenantId), `${marker} ${tenantId}`),
          created_at: control,
        }).execute();
        for (const { name, store } of stores) {
          const id = `${name}-doc`;
          const blobKey = `${tenantId}/${id}`;
          const sealing = await vault.data.createSealStream(blobContext(tenantId, id));
          const stored = store.put(blobKey, sealing);
          await pipeline(Readable.from([document]), sealing).catch(() => undefined);
          const { size } = await stored;
          await test.database.db.insertInto("blob_objects").values({ tenant_id: tenantId, id, blob_key: blobKey, size, created_at: control }).execute();
        }
      }
    });

    after(async () => {
      await s3?.close();
      await test?.cleanup();
      await rm(blobDir, { recursive: true, force: true });
    });

    it("what was written reads back", async () => {
      const row = await test.database.db.selectFrom("tenants").selectAll().where("id", "=", "tenant-a").executeTakeFirstOrThrow();
      assert.equal(await vault.data.openString(nameContext("tenant-a"), row.name_ciphertext), `${marker} tenant-a`);
      for (const { name, store } of stores) {
        const opened = (await store.get(`tenant-b/${name}-doc`)).pipe(vault.data.createOpenStream(blobContext("tenant-b", `${name}-doc`)));
        assert.equal(await text(opened), document.toString());
      }
    });

    it("the database holds no plaintext marker (and the search would see one)", async () => {
      const dump = kind === "sqlite"
        ? Buffer.concat(await Promise.all((await filesUnder(test.dataDir!)).map((file) => readFile(file))))
        : Buffer.from((await promisify(execFile)("pg_dump", ["--data-only", (test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout);
      assert.ok(dump.includes(control), "the control value stored in plaintext is found, so the search works");
      assert.ok(!dump.includes(marker), "a plaintext marker is in the database");
    });

    it("the blob directory and the S3 bucket hold no plaintext marker", async () => {
      assert.ok((await filesUnder(blobDir)).length >= 2);
      assert.deepEqual(await filesContaining(blobDir, marker), []);
      assert.ok((await filesUnder(s3.directory)).length >= 2);
      assert.deepEqual(await filesContaining(s3.directory, marker), []);
    });

    it("a field moved to another tenant's row does not open", async () => {
      const a = await test.database.db.selectFrom("tenants").select("name_ciphertext").where("id", "=", "tenant-a").executeTakeFirstOrThrow();
      await assert.rejects(vault.data.openString(nameContext("tenant-b"), a.name_ciphertext), { code: "decrypt_failed" });
      await assert.rejects(vault.data.openString({ ...nameContext("tenant-a"), field: "email" }, a.name_ciphertext), { code: "decrypt_failed" });
    });

    it("a blob moved to another object or tenant does not open", async () => {
      for (const { name, store } of stores) {
        for (const wrongContext of [blobContext("tenant-a", `${name}-other`), blobContext("tenant-b", `${name}-doc`), { ...blobContext("tenant-a", `${name}-doc`), objectVersion: 2 }]) {
          const opened = (await store.get(`tenant-a/${name}-doc`)).pipe(vault.data.createOpenStream(wrongContext));
          await assert.rejects(text(opened), (error: { code?: string }) => ["decrypt_failed", "key_not_found"].includes(error.code ?? ""));
        }
      }
    });
  });
}
