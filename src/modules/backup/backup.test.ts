// Backups on both databases, to a directory and a real S3-protocol server (s3rver): run, list,
// incremental runs, verify (flipped bytes, a foreign manifest), a destination that is down, retention
// with a simulated clock, and restore onto an empty database and blob store with the shares.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { createFileBlobStore } from "../../store/blob-store-fs.ts";
import { createS3BlobStore } from "../../store/blob-store-s3.ts";
import type { BlobStore } from "../../store/blob-store.ts";
import { createVault, type Vault } from "../../vault/vault.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../../test/support/databases.ts";
import { startS3Server, type TestS3Server } from "../../../test/support/s3-server.ts";
import { blobKeyOf, manifestKey, openBackupDestination, partKey, recordShreddedTenant, type BackupDestination } from "./backup-destinations.ts";
import { acquireBackupLease, claimScheduleSlot } from "./backup-lease.ts";
import { dueSlot } from "./backup-schedule.ts";
import { listBackups } from "./list-backups.ts";
import { restoreBackup } from "./restore-backup.ts";
import { runBackup, type BackupContext } from "./run-backup.ts";
import { verifyBackup } from "./verify-backup.ts";

const day = 24 * 3600 * 1000;
const contentOf = (tenantId: string, objectId: string) => ({ tenantId, objectType: "test_blob", objectId, objectVersion: 1 });

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

for (const kind of databaseKinds) {
  describe(`backups (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let shares: string[];
    let dir: string;
    let blobStore: BlobStore;
    let s3: TestS3Server;
    let directory: BackupDestination;
    let bucket: BackupDestination;
    let clock = Date.parse("2026-01-01T02:00:00.000Z");
    const tenants = [randomUUID(), randomUUID()];
    const documents = new Map<string, { tenantId: string; bytes: Buffer }>();
    const context = (extra: Partial<BackupContext> = {}): BackupContext => ({
      db: test.database.db, databaseConfig: test.config, blobStore, vault, destinations: [directory, bucket],
      workDir: join(dir, "work"), retentionDays: 365, leaseSeconds: 30, now: () => new Date(clock), ...extra,
    });

    async function addDocument(tenantId: string, size: number): Promise<string> {
      const objectId = randomUUID();
      const bytes = randomBytes(size);
      const key = `t/${tenantId}/d/${objectId}/v1-${randomBytes(4).toString("hex")}`;
      const sealing = await vault.data.createSealStream(contentOf(tenantId, objectId));
      const put = blobStore.put(key, sealing);
      await Promise.all([pipeline(Readable.from([bytes]), sealing), put]);
      documents.set(key, { tenantId, bytes });
      return key;
    }

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-backup-"));
      blobStore = createFileBlobStore(join(dir, "blobs"));
      vault = createVault(createVaultRepository(test.database.db));
      ({ shares } = await vault.initialize(3, 2));
      await vault.submitShare(shares[0]!);
      await vault.submitShare(shares[2]!);
      for (const tenantId of tenants) {
        await test.database.db.insertInto("tenants").values({ id: tenantId, name_ciphertext: await vault.data.sealString({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field: "name" }, `Company ${tenantId}`), created_at: new Date().toISOString() }).execute();
        for (let index = 0; index < 4; index++) await addDocument(tenantId, 1000 + index * 70_000);
      }
      // Larger than the reused read buffers (1 MiB): streamed instead, and restored byte-identical all the same.
      await addDocument(tenants[0]!, 1536 * 1024);
      s3 = await startS3Server();
      directory = openBackupDestination({ name: "local", kind: "directory", path: join(dir, "dest-dir") });
      bucket = openBackupDestination({ name: "offsite", kind: "s3", endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, prefix: "sr", accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    });

    after(async () => {
      bucket?.close();
      await s3?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    let first: string;
    let second: string;

    it("one backup at a time: the lease refuses a second holder until released or expired; each schedule slot is claimed once", async () => {
      const at = (ms: number) => () => new Date(clock + ms);
      const held = await acquireBackupLease(test.database.db, 60, at(0));
      await assert.rejects(acquireBackupLease(test.database.db, 60, at(1000)), { code: "backup_busy" });
      await assert.rejects(runBackup(context()), { code: "backup_busy" });
      const takenOver = await acquireBackupLease(test.database.db, 60, at(61_000)); // the first holder died
      await held.release(); // a stale holder's release does not free the new holder's lease
      await assert.rejects(acquireBackupLease(test.database.db, 60, at(62_000)), { code: "backup_busy" });
      await takenOver.release();
      await (await acquireBackupLease(test.database.db, 60, at(63_000))).release();

      const nightly = { enabled: true, hourUtc: 2 };
      assert.equal(dueSlot(nightly, new Date("2026-03-04T01:59:00Z")), undefined);
      const slot = dueSlot(nightly, new Date("2026-03-04T02:00:00Z"))!;
      assert.equal(slot, dueSlot(nightly, new Date("2026-03-04T23:59:00Z")));
      assert.deepEqual([await claimScheduleSlot(test.database.db, slot), await claimScheduleSlot(test.database.db, slot)], [true, false]);
      assert.equal(await claimScheduleSlot(test.database.db, dueSlot(nightly, new Date("2026-03-05T02:00:00Z"))!), true);
      const every = { enabled: true, hourUtc: 2, intervalMinutes: 5 };
      assert.notEqual(dueSlot(every, new Date("2026-03-05T02:04:59Z")), dueSlot(every, new Date("2026-03-05T02:05:00Z")));
    });

    it("backs up to a directory and an S3 bucket, each with a verified copy, and lists it as good", async () => {
      const summary = await runBackup(context());
      assert.equal(summary.ok, true, JSON.stringify(summary.destinations));
      assert.deepEqual(summary.destinations.map((outcome) => [outcome.name, outcome.ok, outcome.blobsCopied]), [["local", true, documents.size], ["offsite", true, documents.size]]);
      assert.equal(summary.blobs.count, documents.size);
      first = summary.id;
      for (const destination of [directory, bucket]) {
        const listing = await listBackups(destination);
        assert.deepEqual(listing.good.map((backup) => backup.id), [first]);
        const report = await verifyBackup(destination, first, await vault.serviceKey.publicKeys());
        assert.deepEqual(report.problems, []);
        assert.equal(report.partsChecked, 2 + documents.size);
      }
      // The work directory (which briefly holds the plaintext snapshot) is empty again.
      assert.deepEqual(await readdir(join(dir, "work")), []);
    });

    it("a second run copies only new blobs, and hashes only blobs it has not seen", async () => {
      clock += day;
      const added = await addDocument(tenants[0]!, 50_000);
      const summary = await runBackup(context());
      assert.equal(summary.ok, true);
      assert.deepEqual(summary.destinations.map((outcome) => outcome.blobsCopied), [1, 1]);
      assert.equal(summary.blobs.hashedBytes, (await blobStore.stat(added))!.size);
      second = summary.id;
      assert.deepEqual((await listBackups(bucket)).good.map((backup) => backup.id), [first, second]);
    });

    it("nothing in a backup is plaintext: the database snapshot and the index are sealed", async () => {
      const dbPart = await readAll(await directory.store.get(partKey(second, "db.part")));
      const index = await readAll(await directory.store.get(partKey(second, "index.part")));
      for (const part of [dbPart, index]) {
        assert.equal(part.subarray(0, 2).toString(), "SR");
        for (const tenantId of tenants) assert.ok(!part.includes(Buffer.from(tenantId)), "no tenant id in the clear");
      }
      assert.ok(!dbPart.includes(Buffer.from("CREATE TABLE")) && !dbPart.includes(Buffer.from("SQLite format")));
    });

    it("verify names the part with one flipped byte, and a manifest from another backup", async () => {
      const root = join(dir, "dest-dir");
      const flip = async (key: string, offset: number) => {
        const path = join(root, ...key.split("/"));
        const bytes = await readFile(path);
        bytes[offset] = bytes[offset]! ^ 0x01;
        await writeFile(path, bytes);
        return async () => {
          bytes[offset] = bytes[offset]! ^ 0x01;
          await writeFile(path, bytes);
        };
      };
      const blobSha = JSON.parse(JSON.parse((await readAll(await directory.store.get(manifestKey(second)))).toString()).body).blobs[3].sha256 as string;
      for (const [key, label] of [[partKey(second, "db.part"), "db.part"], [partKey(second, "index.part"), "index.part"], [blobKeyOf(blobSha), blobKeyOf(blobSha)]] as const) {
        const undo = await flip(key, 100);
        const report = await verifyBackup(directory, second);
        assert.equal(report.ok, false);
        assert.deepEqual(report.problems.map((problem) => problem.part), [label]);
        await undo();
      }
      const undo = await flip(manifestKey(second), 30);
      const broken = await verifyBackup(directory, second);
      assert.deepEqual([broken.ok, broken.problems[0]?.part], [false, "manifest.json"]);
      await undo();

      // The first backup's manifest put in the place of the second's.
      const own = await readAll(await directory.store.get(manifestKey(second)));
      await directory.store.put(manifestKey(second), await directory.store.get(manifestKey(first)));
      const foreign = await verifyBackup(directory, second);
      assert.equal(foreign.ok, false);
      assert.ok(foreign.problems.some((problem) => problem.part === "manifest.json" && problem.problem.includes(first)), JSON.stringify(foreign.problems));
      await directory.store.put(manifestKey(second), Readable.from([own]));
      assert.equal((await verifyBackup(directory, second)).ok, true);
    });

    it("with one destination unreachable the run fails, says which, and no destination lists it as good", async () => {
      clock += day;
      await addDocument(tenants[1]!, 10_000);
      const down = openBackupDestination({ name: "down", kind: "s3", endpoint: "http://127.0.0.1:9", region: "us-east-1", bucket: "nowhere", prefix: "", accessKeyId: "x", secretAccessKey: "y", forcePathStyle: true });
      try {
        const summary = await runBackup(context({ destinations: [directory, down, bucket] }));
        assert.equal(summary.ok, false);
        assert.deepEqual(summary.destinations.map((outcome) => [outcome.name, outcome.ok]), [["local", true], ["down", false], ["offsite", true]]);
        assert.match(summary.destinations[1]!.error!, /storage_failed/);
        for (const destination of [directory, bucket]) {
          const listing = await listBackups(destination);
          assert.deepEqual(listing.good.map((backup) => backup.id), [first, second]);
          assert.deepEqual(listing.incomplete, [summary.id]);
        }
        assert.deepEqual(summary.pruned, []);
      } finally {
        down.close();
      }
      // A directory that cannot be written (it receives unseen blobs first): it fails, the others get every blob.
      await addDocument(tenants[1]!, 20_000);
      await writeFile(join(dir, "not-a-directory"), "x");
      const broken = openBackupDestination({ name: "broken", kind: "directory", path: join(dir, "not-a-directory", "backups") });
      const summary = await runBackup(context({ destinations: [broken, bucket] }));
      assert.deepEqual(summary.destinations.map((outcome) => [outcome.name, outcome.ok]), [["broken", false], ["offsite", true]]);
      assert.match(summary.destinations[0]!.error!, /ENOTDIR/);
      assert.equal(summary.destinations[1]!.blobsCopied, 1);
      assert.deepEqual((await listBackups(bucket)).good.map((backup) => backup.id), [first, second]);
    });

    it("retention (simulated clock) prunes exactly the expired backups and unreferenced blobs on every destination", async () => {
      clock += 300 * day;
      const third = (await runBackup(context())).id;
      // The incomplete leftover of the failed run is gone; nothing has expired yet.
      for (const destination of [directory, bucket]) {
        const listing = await listBackups(destination);
        assert.deepEqual([listing.good.map((backup) => backup.id), listing.incomplete, listing.unreadable], [[first, second, third], [], []]);
      }
      clock += 63.5 * day; // the first is now 365.5 days old, the second 364.5
      const fourth = await runBackup(context({ retentionDays: 365 }));
      assert.equal(fourth.ok, true);
      for (const outcome of fourth.pruned) assert.deepEqual([outcome.removedBackups, outcome.problem], [[first], undefined]);
      for (const destination of [directory, bucket]) {
        assert.deepEqual((await listBackups(destination)).good.map((backup) => backup.id), [second, third, fourth.id]);
        for (const id of [second, third, fourth.id]) assert.equal((await verifyBackup(destination, id)).ok, true, `${destination.name} ${id}`);
        let parts = 0;
        for await (const _key of destination.store.list(`backups/${first}/`)) parts += 1;
        assert.equal(parts, 0);
      }

      // Delete a document: once every backup naming it has expired, its blob goes too.
      const [gone] = [...documents.keys()];
      const goneSha = JSON.parse(JSON.parse((await readAll(await directory.store.get(manifestKey(fourth.id)))).toString()).body).blobs as { sha256: string }[];
      await blobStore.delete(gone!);
      documents.delete(gone!);
      // While a kept backup still names it, it stays (the second expires now; the third and fourth name
      // it too); a manifest that cannot be read keeps every blob.
      const thirdManifest = await readAll(await directory.store.get(manifestKey(third)));
      await directory.store.put(manifestKey(third), Readable.from([Buffer.from("{}")]));
      clock += day;
      const next = await runBackup(context());
      assert.equal(next.ok, true);
      assert.deepEqual(next.pruned.map((outcome) => [outcome.destination, outcome.removedBackups, outcome.removedBlobs, outcome.problem]),
        [["local", [second], 0, "a manifest could not be read: no blobs were removed"], ["offsite", [second], 0, undefined]]);
      await directory.store.put(manifestKey(third), Readable.from([thirdManifest]));
      for (const destination of [directory, bucket]) {
        for (const id of [third, fourth.id, next.id]) assert.equal((await verifyBackup(destination, id)).ok, true, `${destination.name} ${id}`);
      }
      clock += 400 * day;
      const later = await runBackup(context());
      for (const outcome of later.pruned) assert.deepEqual([outcome.removedBackups, outcome.removedBlobs], [[third, fourth.id, next.id], 1]);
      assert.equal(goneSha.length, documents.size + 1);
      for (const destination of [directory, bucket]) assert.deepEqual((await listBackups(destination)).good.map((backup) => backup.id), [later.id]);
      first = later.id;
    });

    it("restores from the S3 destination onto an empty database and blob store; the shares open it, erased companies stay erased", async () => {
      await recordShreddedTenant([directory, bucket], tenants[1]!);
      const target = await openTestDatabase(kind, { migrate: false });
      const restoredBlobs = createFileBlobStore(join(dir, "restored-blobs"));
      try {
        // Wrong shares open nothing.
        await assert.rejects(restoreBackup({ destination: bucket, id: first, shares: [shares[0]!], databaseConfig: target.config, blobStore: restoredBlobs, workDir: join(dir, "work") }), { code: "unseal_failed" });
        if (kind === "sqlite") await target.database.close();
        const summary = await restoreBackup({ destination: bucket, id: first, shares: [shares[1]!, shares[2]!], databaseConfig: target.config, blobStore: restoredBlobs, workDir: join(dir, "work") });
        assert.deepEqual([summary.blobs, summary.shreddedTenants], [documents.size, [tenants[1]]]);
        // Restoring again onto what is now a full installation is refused.
        await assert.rejects(restoreBackup({ destination: bucket, id: first, shares: [shares[1]!, shares[2]!], databaseConfig: target.config, blobStore: restoredBlobs, workDir: join(dir, "work") }), { code: "restore_target_not_empty" });

        const reopened = kind === "sqlite" ? await (await import("../../store/database.ts")).openDatabase(target.config) : target.database;
        try {
          const restoredVault = createVault(createVaultRepository(reopened.db));
          assert.equal((await restoredVault.status()).sealed, true);
          await restoredVault.submitShare(shares[0]!);
          await restoredVault.submitShare(shares[1]!);
          assert.equal(restoredVault.isSealed(), false);
          for (const [key, document] of documents) {
            const objectId = key.split("/")[3]!;
            const source = await restoredBlobs.get(key);
            const opening = restoredVault.data.createOpenStream(contentOf(document.tenantId, objectId));
            opening.on("error", () => source.destroy());
            const opened = readAll(source.pipe(opening));
            if (document.tenantId === tenants[1]) await assert.rejects(opened, { code: "key_not_found" });
            else assert.ok((await opened).equals(document.bytes), `byte-identical ${key}`);
          }
        } finally {
          if (kind === "sqlite") await reopened.close();
        }
      } finally {
        await target.cleanup().catch(() => undefined);
      }
    });

    it("backups made within one second are listed in the order they were made (ids only name the second)", async () => {
      const made: string[] = [];
      for (let pair = 0; pair < 4; pair++) {
        clock = Math.floor(clock / 1000) * 1000 + 2000 + 100;
        made.push((await runBackup(context())).id);
        clock += 800;
        made.push((await runBackup(context())).id);
      }
      for (const destination of [directory, bucket]) {
        const listed = (await listBackups(destination)).good.map((backup) => backup.id).filter((id) => made.includes(id));
        assert.deepEqual(listed, made, destination.name);
      }
    });
  });
}
