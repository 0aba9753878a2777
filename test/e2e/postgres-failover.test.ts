// Failover of the cluster shape (P17): a PostgreSQL primary with a synchronous streaming replica
// (made by pg_basebackup -R with the machine's own binaries), blobs in a real S3-protocol server, and
// two stateless app nodes. Node 1 runs on the primary while documents are written; the primary is
// stopped at once (immediate: no clean shutdown) in the middle of the writes, the replica is promoted,
// and node 2 — started with the replica's URL, unsealed with the same share — serves every document
// whose upload was acknowledged (201) byte for byte, keeps the signed-in session, and takes new writes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createS3BlobStore } from "../../src/store/blob-store-s3.ts";
import { openDatabase, type DatabaseConfig } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import type { TestDatabase } from "../support/databases.ts";
import { startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { postgresClusterSkipReason, startReplicatedCluster, type ReplicatedCluster } from "../support/postgres-cluster.ts";
import { startTestApp, type TestApp } from "../support/signed-in-app.ts";
import { WebClient } from "../support/web-client.ts";

const owner = { email: "olga@failover.example", password: "olga survives a lost primary 7", name: "Olga" };

async function nodeDatabase(url: string): Promise<TestDatabase> {
  const config: DatabaseConfig = { kind: "postgres", url };
  const database = await openDatabase(config);
  return { database, config, cleanup: () => database.close() };
}

describe("PostgreSQL failover to a promoted synchronous replica", { skip: postgresClusterSkipReason() }, () => {
  let cluster: ReplicatedCluster;
  let s3: TestS3Server;
  let node1: TestApp | undefined;
  let node2: TestApp | undefined;
  const databases: TestDatabase[] = [];
  const blobStore = () => createS3BlobStore({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });

  before(async () => {
    cluster = await startReplicatedCluster();
    s3 = await startS3Server();
    await cluster.waitForSynchronousReplica();
    await cluster.query(cluster.primaryPort, "postgres", "CREATE DATABASE strongroom");
  });

  after(async () => {
    await node2?.close();
    await node1?.close().catch(() => {});
    for (const database of databases) await database.cleanup().catch(() => {});
    await s3?.close();
    await cluster?.close();
  });

  it("every acknowledged document survives the loss of the primary and the app carries on on the promoted replica", async () => {
    const primary = await nodeDatabase(cluster.url(cluster.primaryPort, "strongroom"));
    databases.push(primary);
    await migrateToLatest(primary.database);
    node1 = await startTestApp("postgres", async () => ({ documents: { blobStore: blobStore(), maxUploadBytes: 1024 * 1024 } }), { test: primary, keepDatabase: true });
    const { client, tenantId } = await node1.signUp(owner, "Failover Co");

    // Writes run on their own while the primary is stopped under them.
    const acknowledged = new Map<string, Buffer>();
    let failures = 0;
    let stop = false;
    const writer = (async () => {
      for (let n = 0; !stop && failures < 3; n++) {
        try {
          const created = await client.post(`/v1/tenants/${tenantId}/documents`, { title: `Ledger ${n}` });
          if (created.status !== 201) { failures += 1; continue; }
          const bytes = randomBytes(20_000 + n * 97);
          const uploaded = await client.request("PUT", `/v1/tenants/${tenantId}/documents/${created.json().id}/content?baseVersion=0`, bytes, { "x-content-type": "application/octet-stream" });
          if (uploaded.status === 201) acknowledged.set(created.json().id, bytes);
          else failures += 1;
        } catch {
          failures += 1;
        }
      }
    })();
    while (acknowledged.size < 15 && failures === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(failures, 0, "writes succeed while the primary is up");
    await cluster.stopPrimaryImmediately();
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop = true;
    await writer;
    assert.ok(acknowledged.size >= 15);
    assert.ok(failures >= 1, "writes after the primary stopped were refused, not acknowledged");
    const refused = await client.post(`/v1/tenants/${tenantId}/documents`, { title: "while down" });
    assert.ok(refused.status >= 500, `node 1 cannot write without a primary (${refused.status})`);

    await cluster.promoteReplica();
    const replica = await nodeDatabase(cluster.url(cluster.replicaPort, "strongroom"));
    databases.push(replica);
    // Node 2 is the same code with the replica's URL, unsealed by the custodian's share.
    node2 = await startTestApp("postgres", async () => ({ documents: { blobStore: blobStore(), maxUploadBytes: 1024 * 1024 } }),
      { test: replica, shares: node1.shares!, keepDatabase: true, mail: node1.mail });
    const moved = new WebClient(node2.base, node2.ca);
    for (const [name, value] of client.cookies) moved.cookies.set(name, value);
    moved.csrfToken = client.csrfToken;
    assert.equal((await moved.get("/v1/auth/session")).status, 200, "the session made on node 1 is valid on node 2");

    for (const [documentId, bytes] of acknowledged) {
      const download = await moved.get(`/v1/tenants/${tenantId}/documents/${documentId}/content`);
      assert.equal(download.status, 200, `acknowledged document ${documentId} is present`);
      assert.ok(download.bytes.equals(bytes), `acknowledged document ${documentId} is byte-identical`);
    }

    const created = await moved.post(`/v1/tenants/${tenantId}/documents`, { title: "After failover" });
    assert.equal(created.status, 201, created.text);
    const fresh = randomBytes(33_333);
    const uploaded = await moved.request("PUT", `/v1/tenants/${tenantId}/documents/${created.json().id}/content?baseVersion=0`, fresh, { "x-content-type": "application/octet-stream" });
    assert.equal(uploaded.status, 201, uploaded.text);
    assert.ok((await moved.get(`/v1/tenants/${tenantId}/documents/${created.json().id}/content`)).bytes.equals(fresh));
    // The audit trail carried over and keeps chaining on the new primary.
    const chains = await replica.database.db.selectFrom("audit_chain_heads").select(["chain_id", "seq"]).where("chain_id", "=", tenantId).executeTakeFirstOrThrow();
    assert.ok(Number(chains.seq) > acknowledged.size * 2);
  });
});
