// Two nodes on one PostgreSQL database, each with its own pool, vault and listening connection, as
// in a scale-out installation: what one node changes about API keys and companies, the other enforces
// as soon as PostgreSQL delivers the change notice (the nodes keep those rows in memory), and while a
// node may be missing notices it reads the database on every request instead.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { changeNoticesOf, type ChangeNotices } from "../../src/store/change-notices.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createTenantRepository } from "../../src/modules/tenants/tenant-repository.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import { listenerApplicationName } from "../../src/store/postgres-change-notices.ts";
import { nextNotice, waitUntil } from "../support/change-notices.ts";
import { skipReason } from "../support/databases.ts";
import { startTestApp, type TestApp } from "../support/signed-in-app.ts";
import { WebClient } from "../support/web-client.ts";

const owner = { email: "olga@cluster.example", password: "olga runs two nodes at once 7", name: "Olga Owner" };

function noticesOf(node: TestApp): ChangeNotices {
  const notices = changeNoticesOf(node.test.database.db);
  assert.ok(notices);
  return notices;
}

describe("two nodes on one PostgreSQL keep their API-key and company caches right", { skip: await skipReason("postgres") }, () => {
  let nodeA: TestApp;
  let nodeB: TestApp;
  let admin: WebClient;
  let tenantId: string;

  const withKey = (node: TestApp, key: string) => new WebClient(node.base, node.ca, { authorization: `Basic ${Buffer.from(key).toString("base64")}` });
  const newKey = async (scopes: string[]) => {
    const created = await admin.post(`/v1/tenants/${tenantId}/api-keys`, { name: "cluster", scopes });
    assert.equal(created.status, 201, created.text);
    return created.json() as { id: string; key: string };
  };

  before(async () => {
    nodeA = await startTestApp("postgres", async ({ dir }) => ({ documents: { blobStore: createFileBlobStore(join(dir, "blobs")), maxUploadBytes: 1024 * 1024 }, privacy: { subProcessors: [] } }));
    const second = await openDatabase(nodeA.test.config);
    nodeB = await startTestApp("postgres", async ({ dir }) => ({ documents: { blobStore: createFileBlobStore(join(dir, "blobs")), maxUploadBytes: 1024 * 1024 }, privacy: { subProcessors: [] } }), {
      test: { database: second, config: nodeA.test.config, cleanup: () => second.close() },
      ...(nodeA.shares ? { shares: nodeA.shares } : {}),
      mail: nodeA.mail,
    });
    await waitUntil(() => noticesOf(nodeA).isCurrent() && noticesOf(nodeB).isCurrent(), "both nodes listen for change notices");
    ({ client: admin, tenantId } = await nodeA.signUp(owner, "Cluster Co"));
  });
  after(async () => {
    await nodeB?.close();
    await nodeA?.close();
  });

  it("a key revoked on node A is refused by node B, which had been serving it from memory", async () => {
    const { id, key } = await newKey(["read"]);
    const onB = withKey(nodeB, key);
    for (let index = 0; index < 3; index++) assert.equal((await onB.get(`/v1/tenants/${tenantId}`)).status, 200);
    const noticed = nextNotice(noticesOf(nodeB), (notice) => notice.topic === "api_key" && notice.key === id);
    assert.equal((await admin.request("DELETE", `/v1/tenants/${tenantId}/api-keys/${id}`)).status, 200);
    await noticed;
    const refused = await onB.get(`/v1/tenants/${tenantId}`);
    assert.equal(refused.status, 401);
    assert.equal(refused.json().error, "api_key_invalid");
    assert.equal((await withKey(nodeA, key).get(`/v1/tenants/${tenantId}`)).status, 401);
  });

  it("an address allow-list set on node A binds the company's keys on node B, and lifting it frees them", async () => {
    const { key } = await newKey(["read"]);
    const onB = withKey(nodeB, key);
    assert.equal((await onB.get(`/v1/tenants/${tenantId}`)).status, 200);
    // Through the company repository on node A, the code the route calls (the route itself refuses a
    // list that would shut out the admin's own address, which is this test's address too).
    const tenantsOnA = createTenantRepository(nodeA.test.database.db);
    let noticed = nextNotice(noticesOf(nodeB), (notice) => notice.topic === "tenant" && notice.key === tenantId);
    await tenantsOnA.setIpAllowlist(tenantId, ["192.0.2.0/24"]);
    await noticed;
    const refused = await onB.get(`/v1/tenants/${tenantId}`);
    assert.equal(refused.status, 403);
    assert.equal(refused.json().error, "ip_not_allowed");
    noticed = nextNotice(noticesOf(nodeB), (notice) => notice.topic === "tenant" && notice.key === tenantId);
    await tenantsOnA.setIpAllowlist(tenantId, []);
    await noticed;
    assert.equal((await onB.get(`/v1/tenants/${tenantId}`)).status, 200);
  });

  it("while node B's listening connection is down it reads every key from the database, so a revocation still holds", async () => {
    const { id, key } = await newKey(["read"]);
    const onB = withKey(nodeB, key);
    assert.equal((await onB.get(`/v1/tenants/${tenantId}`)).status, 200);
    // Cut the listening connections (as a PostgreSQL restart would), and revoke without a notice: the
    // notice is lost. Node B must not serve the key it holds in memory.
    const cut = await sql<{ pid: number }>`
      select pg_terminate_backend(pid) as pid from pg_stat_activity
      where application_name = ${listenerApplicationName} and datname = current_database()`.execute(nodeA.test.database.db);
    assert.equal(cut.rows.length, 2, "one listening connection per node");
    await waitUntil(() => !noticesOf(nodeB).isCurrent(), "node B knows it may be missing notices");
    await nodeA.test.database.db.updateTable("api_keys").set({ revoked_at: new Date().toISOString() }).where("id", "=", id).execute();
    assert.equal((await onB.get(`/v1/tenants/${tenantId}`)).status, 401, "refused although no notice reached node B");
    await waitUntil(() => noticesOf(nodeA).isCurrent() && noticesOf(nodeB).isCurrent(), "both nodes listen again");
  });

  it("a company erased on node A is gone on node B: its keys and its id", async () => {
    const { key } = await newKey(["admin"]);
    const onB = withKey(nodeB, key);
    assert.equal((await onB.get(`/v1/tenants/${tenantId}`)).status, 200);
    const noticed = nextNotice(noticesOf(nodeB), (notice) => notice.topic === "tenant" && notice.key === tenantId);
    const erased = await admin.post(`/v1/tenants/${tenantId}/erasure`, { companyName: "Cluster Co" });
    assert.equal(erased.status, 200, erased.text);
    await noticed;
    const refused = await onB.get(`/v1/tenants/${tenantId}`);
    assert.equal(refused.status, 401);
  });
});
