// Support access (P16) end to end over HTTPS, on SQLite and PostgreSQL: an operator reads nothing of a
// company without its grant; an owner or admin grants one named operator time-limited read access;
// during it every read works and is on the company's audit trail with the operator as actor; there is
// no write; another operator, another company, another address, an expired or withdrawn grant: refused.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpsRequestRaw } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { URI } from "otpauth";
import { buildApp } from "../../src/http/app.ts";
import { createAuthenticator } from "../../src/http/authenticate.ts";
import { createAddressFilter } from "../../src/http/ip-filter.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createOperatorAccess } from "../../src/modules/operators/operator-access.ts";
import { addOperator } from "../../src/modules/operators/operator-accounts.ts";
import { createOperatorDeps } from "../../src/modules/operators/operator-deps.ts";
import { totpCodeAt } from "../../src/modules/operators/operator-totp.ts";
import { registerSupportAccessRoutes } from "../../src/modules/support-access/support-access-routes.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import type { DatabaseKind } from "../../src/store/database.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason } from "../support/databases.ts";
import { codeIn, startMailServer, tokenIn } from "../support/mail-server.ts";
import { inviteAndSignIn, type Person, type TestApp } from "../support/signed-in-app.ts";
import { WebClient } from "../support/web-client.ts";

const alice = { email: "alice@support.example", password: "alice owns the company 2026", name: "Alice" };
const bob = { email: "bob@support.example", password: "bob is only a member 2026", name: "Bob" };
const carol = { email: "carol@other.example", password: "carol runs another company", name: "Carol" };
const operatorPassword = "operators keep the lights on 2026";
const hour = 3_600_000;
const inHours = (hours: number) => new Date(Date.now() + hours * hour).toISOString();

// The app as buildApp makes it, with the support-access routes (registered here until the server wires them).
async function startSupportApp(kind: DatabaseKind): Promise<TestApp> {
  const test = await openTestDatabase(kind);
  const dir = await mkdtemp(join(tmpdir(), "sr-support-"));
  const mail = await startMailServer();
  const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
  const ca = await readFile(certificate.certFile);
  const db = test.database.db;
  const vault = createVault(createVaultRepository(db));
  const { shares } = await vault.initialize(1, 1);
  await vault.submitShare(shares[0]!);
  const log = createLogger({ level: "silent" });
  const identity = createIdentityDeps({
    db, vault, publicUrl: "https://localhost",
    messages: createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "s@test.example" }),
  });
  const blobStore = createFileBlobStore(join(dir, "blobs"));
  const operatorCidrs = ["127.0.0.1/32"];
  const app = await buildApp({
    vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs, version: "test",
    identity, audit: createAuditTrail({ db, vault, log }), documents: { blobStore, maxUploadBytes: 4 * 1024 * 1024 },
  });
  if (!app.hasRoute({ method: "GET", url: "/v1/support/tenants/:tenantId/documents/:id" })) {
    const operatorAccess = createOperatorAccess(createOperatorDeps({ db, vault }), createAddressFilter(operatorCidrs));
    await registerSupportAccessRoutes(app, { db, vault, blobStore }, createAuthenticator(identity), operatorAccess);
  }
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `https://localhost:${(app.server.address() as { port: number }).port}`;

  async function signIn(person: Person): Promise<WebClient> {
    const client = new WebClient(base, ca);
    const since = mail.received.length;
    const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
    assert.equal(login.status, 202, login.text);
    const verified = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(person.email, since)) });
    assert.equal(verified.status, 200, verified.text);
    return client;
  }
  return {
    app, base, ca, vault, test, mail, dir, signIn,
    async signUp(person, companyName) {
      const since = mail.received.length;
      await new WebClient(base, ca).post("/v1/auth/signup", { companyName, ...person });
      await new WebClient(base, ca).post("/v1/auth/verify-email", { token: tokenIn(await mail.next(person.email, since)) });
      const client = await signIn(person);
      const session = (await client.get("/v1/auth/session")).json();
      return { client, tenantId: session.tenants[0].id, userId: session.user.id };
    },
    async close() {
      await app.close();
      await mail.close();
      await test.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// A GET from another loopback address: the server sees 127.0.0.2, outside the operator CIDRs.
function getFrom(localAddress: string, url: string, ca: Buffer, cookie: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const sent = httpsRequestRaw(url, { ca, localAddress, family: 4, headers: { cookie } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    sent.on("error", reject);
    sent.end();
  });
}

for (const kind of databaseKinds) {
  describe(`support access (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let a: WebClient;
    let tenantA: string;
    let bobClient: WebClient;
    let carolClient: WebClient;
    let tenantB: string;
    let ada: WebClient;
    let adaId: string;
    let grace: WebClient;
    let folderId: string;
    let documentId: string;
    let carolsDocument: string;
    const content = Buffer.concat([Buffer.from("%PDF-1.7\nsupport case\n"), randomBytes(200_000)]);
    const support = (tenantId: string, rest: string) => `/v1/support/tenants/${tenantId}${rest}`;
    const readPaths = (tenantId: string, docId: string, folder: string) => [
      support(tenantId, "/folders/root"), support(tenantId, `/folders/${folder}`), support(tenantId, `/documents/${docId}`), support(tenantId, `/documents/${docId}/content`),
    ];
    const grantTo = async (operator: string, expiresAt = inHours(2)) => {
      const granted = await a.post(`/v1/tenants/${tenantA}/support-access`, { operator, expiresAt, reason: "ticket 4711: the PDF will not open" });
      assert.equal(granted.status, 201, granted.text);
      return granted.json().grant as { id: string; status: string; operator: { id: string; username: string } };
    };
    const signInOperator = async (username: string) => {
      const { operator, otpauthUri } = await addOperator({ db: t.test.database.db, vault: t.vault }, { username, password: operatorPassword });
      const client = new WebClient(t.base, t.ca);
      const code = totpCodeAt(URI.parse(otpauthUri).secret.base32, Date.now());
      const signedIn = await client.post("/v1/sys/operator/login", { username, password: operatorPassword, code });
      assert.equal(signedIn.status, 200, signedIn.text);
      return { client, id: operator.id };
    };

    before(async () => {
      t = await startSupportApp(kind);
      ({ client: a, tenantId: tenantA } = await t.signUp(alice, "Support Co"));
      ({ client: bobClient } = await inviteAndSignIn(t, a, tenantA, bob, "member"));
      ({ client: carolClient, tenantId: tenantB } = await t.signUp(carol, "Other Co"));
      folderId = (await a.post(`/v1/tenants/${tenantA}/folders`, { name: "Cases" })).json().id;
      documentId = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Broken PDF", folderId })).json().id;
      assert.equal((await a.request("PUT", `/v1/tenants/${tenantA}/documents/${documentId}/content?baseVersion=0`, content, { "x-content-type": "application/pdf", "x-filename": "broken.pdf" })).status, 201);
      carolsDocument = (await carolClient.post(`/v1/tenants/${tenantB}/documents`, { title: "Carol's secret" })).json().id;
      await carolClient.request("PUT", `/v1/tenants/${tenantB}/documents/${carolsDocument}/content?baseVersion=0`, randomBytes(1000), { "x-content-type": "application/octet-stream" });
      ({ client: ada, id: adaId } = await signInOperator("ada"));
      ({ client: grace } = await signInOperator("grace"));
    });

    after(() => t?.close());

    it("without a grant an operator reads nothing: 404 on every support route; without an operator session 401", async () => {
      for (const path of [...readPaths(tenantA, documentId, folderId), ...readPaths(randomBytes(16).toString("hex"), documentId, folderId)]) {
        const refused = await ada.get(path);
        assert.deepEqual([refused.status, refused.json().error], [404, "not_found"], path);
        assert.equal((await a.get(path)).status, 401, `a company user is no operator: ${path}`);
        assert.equal((await new WebClient(t.base, t.ca).get(path)).status, 401, path);
      }
      assert.deepEqual((await ada.get("/v1/support/grants")).json().grants, []);
    });

    it("only the company's owners and admins grant, to an existing operator, for at most 72 hours", async () => {
      const body = { operator: "ada", expiresAt: inHours(1) };
      assert.deepEqual([(await bobClient.post(`/v1/tenants/${tenantA}/support-access`, body)).status, (await bobClient.get(`/v1/tenants/${tenantA}/support-access`)).status], [403, 403]);
      assert.equal((await carolClient.post(`/v1/tenants/${tenantA}/support-access`, body)).status, 404);
      assert.equal((await ada.post(`/v1/tenants/${tenantA}/support-access`, body)).status, 401, "an operator cannot grant themself access");
      for (const [bad, status] of [[{ expiresAt: inHours(73) }, 400], [{ expiresAt: inHours(-1) }, 400], [{ expiresAt: undefined }, 400], [{ operator: "nobody" }, 404]] as const) {
        const refused = await a.post(`/v1/tenants/${tenantA}/support-access`, { ...body, ...bad });
        assert.equal(refused.status, status, JSON.stringify(bad));
      }
      assert.deepEqual((await a.get(`/v1/tenants/${tenantA}/support-access`)).json().grants, []);
    });

    it("with a grant the named operator reads the company's folders and documents, byte-identical, Range included", async () => {
      const grant = await grantTo("ada");
      assert.deepEqual([grant.status, grant.operator.username, grant.operator.id], ["active", "ada", adaId]);
      assert.deepEqual((await ada.get("/v1/support/grants")).json().grants.map((row: { tenantId: string }) => row.tenantId), [tenantA]);
      const root = (await ada.get(support(tenantA, "/folders/root"))).json();
      assert.deepEqual(root.folders, [{ id: folderId, name: "Cases" }]);
      const folder = (await ada.get(support(tenantA, `/folders/${folderId}`))).json();
      assert.deepEqual(folder.documents.map((doc: { title: string }) => doc.title), ["Broken PDF"]);
      const meta = (await ada.get(support(tenantA, `/documents/${documentId}`))).json();
      assert.deepEqual([meta.title, meta.size, meta.contentType], ["Broken PDF", content.length, "application/pdf"]);
      const whole = await ada.get(support(tenantA, `/documents/${documentId}/content`));
      assert.equal(whole.status, 200);
      assert.ok(whole.bytes.equals(content));
      const part = await ada.request("GET", support(tenantA, `/documents/${documentId}/content`), undefined, { range: "bytes=1000-1999" });
      assert.deepEqual([part.status, part.headers["content-range"]], [206, `bytes 1000-1999/${content.length}`]);
      assert.ok(part.bytes.equals(content.subarray(1000, 2000)));
    });

    it("every support read is on the company's audit trail with the operator as actor", async () => {
      const records = (await a.get(`/v1/tenants/${tenantA}/audit?actor=${adaId}&limit=500`)).json().records as {
        actor: { type: string; id: string }; action: string; result: string; details: Record<string, unknown>;
      }[];
      const reads = records.filter((record) => record.result === "ok");
      assert.deepEqual(
        [...new Set(reads.map((record) => record.action))].sort(),
        ["GET /v1/support/tenants/:tenantId/documents/:id", "GET /v1/support/tenants/:tenantId/documents/:id/content", "GET /v1/support/tenants/:tenantId/folders/:id"],
      );
      for (const record of records) assert.deepEqual([record.actor.type, record.actor.id, record.details.operator], ["operator", adaId, "ada"]);
      const downloads = reads.filter((record) => record.action.endsWith("/content"));
      assert.equal(downloads.length, 2);
      assert.ok(downloads.every((record) => record.details.documentId === documentId));
      assert.ok(records.some((record) => record.result === "denied"), "the reads refused before the grant are there too");
      const granted = (await a.get(`/v1/tenants/${tenantA}/audit?action=${encodeURIComponent("POST /v1/tenants/:tenantId/support-access")}`)).json().records;
      assert.ok(granted.some((record: { details: { operatorId?: string } }) => record.details.operatorId === adaId));
    });

    it("there is no write: no write route under /v1/support, and an operator session opens no company route", async () => {
      const docPath = `/v1/tenants/${tenantA}/documents/${documentId}`;
      for (const method of ["PUT", "POST", "PATCH", "DELETE"]) {
        for (const path of [support(tenantA, `/documents/${documentId}`), support(tenantA, `/documents/${documentId}/content`), support(tenantA, "/folders/root")]) {
          // (DELETE without a body: Node's client would send it unframed.)
          const refused = await ada.request(method, path, method === "PUT" ? Buffer.from("overwritten") : method === "DELETE" ? undefined : {});
          assert.ok([404, 405].includes(refused.status), `${method} ${path}: ${refused.status} ${refused.text}`);
        }
      }
      const companyWrites = [
        ["PUT", `${docPath}/content?baseVersion=1`, Buffer.from("overwritten")], ["PATCH", docPath, { title: "changed" }], ["DELETE", docPath, undefined],
        ["POST", `/v1/tenants/${tenantA}/documents`, { title: "planted" }], ["POST", `${docPath}/versions/1/restore`, { baseVersion: 1 }],
      ] as const;
      for (const [method, path, body] of companyWrites) {
        const refused = await ada.request(method, path, body, method === "PUT" ? { "x-content-type": "application/pdf" } : {});
        assert.equal(refused.status, 401, `${method} ${path}`);
      }
      assert.equal((await ada.get(`${docPath}/content`)).status, 401, "the company's own routes stay closed to operators");
      const meta = (await a.get(docPath)).json();
      assert.deepEqual([meta.title, meta.version], ["Broken PDF", 1]);
    });

    it("a grant for one operator lets no other operator in, opens no other company, and needs the operator addresses", async () => {
      for (const path of readPaths(tenantA, documentId, folderId)) assert.equal((await grace.get(path)).status, 404, `grace: ${path}`);
      for (const path of readPaths(tenantB, carolsDocument, "root")) assert.equal((await ada.get(path)).status, 404, `another company: ${path}`);
      assert.equal((await ada.get(support(tenantA, `/documents/${carolsDocument}`))).status, 404, "another company's id under the granted company");
      const cookie = [...ada.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
      const elsewhere = await getFrom("127.0.0.2", `${t.base}${support(tenantA, `/documents/${documentId}`)}`, t.ca, cookie);
      assert.deepEqual([elsewhere.status, elsewhere.json.error], [403, "ip_not_allowed"]);
      assert.equal((await getFrom("127.0.0.1", `${t.base}${support(tenantA, `/documents/${documentId}`)}`, t.ca, cookie)).status, 200);
    });

    it("a withdrawn grant refuses at once; so does an expired one", async () => {
      const active = (await a.get(`/v1/tenants/${tenantA}/support-access`)).json().grants.find((grant: { status: string }) => grant.status === "active");
      assert.equal(active.reason, "ticket 4711: the PDF will not open");
      assert.equal((await carolClient.request("DELETE", `/v1/tenants/${tenantA}/support-access/${active.id}`)).status, 404);
      assert.equal((await ada.get(support(tenantA, `/documents/${documentId}`))).status, 200);
      const revoked = await a.request("DELETE", `/v1/tenants/${tenantA}/support-access/${active.id}`);
      assert.deepEqual([revoked.status, revoked.json().status], [200, "revoked"]);
      for (const path of readPaths(tenantA, documentId, folderId)) assert.equal((await ada.get(path)).status, 404, `after withdrawal: ${path}`);

      const second = await grantTo("ada", inHours(72));
      assert.equal((await ada.get(support(tenantA, `/documents/${documentId}/content`))).status, 200);
      await t.test.database.db.updateTable("support_access_grants").set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where("id", "=", second.id).execute();
      for (const path of readPaths(tenantA, documentId, folderId)) assert.equal((await ada.get(path)).status, 404, `after expiry: ${path}`);
      const statuses = (await a.get(`/v1/tenants/${tenantA}/support-access`)).json().grants.map((grant: { status: string }) => grant.status).sort();
      assert.deepEqual(statuses, ["expired", "revoked"]);
      assert.equal((await a.request("DELETE", `/v1/tenants/${tenantA}/support-access/${randomBytes(16).toString("hex")}`)).status, 404);
    });
  });
}
