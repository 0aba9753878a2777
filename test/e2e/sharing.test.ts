// Share links end to end over HTTPS, on SQLite and PostgreSQL: byte-identical and Range downloads by
// link, the PIN (nothing before it, a grant after it, five wrong PINs lock the link, even in parallel),
// the link by e-mail and the PIN by SMS, expiry, withdrawal and the trash stopping a link at once, the
// creator's rights, other companies' 404s, every link request on the company's audit trail, and no
// token or PIN in a log line or a database row.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { buildApp } from "../../src/http/app.ts";
import { createAuthenticator } from "../../src/http/authenticate.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createMessageSender } from "../../src/modules/messages/create-message-sender.ts";
import { registerSharingRoutes } from "../../src/modules/sharing/sharing-routes.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import type { DatabaseKind } from "../../src/store/database.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason } from "../support/databases.ts";
import { codeIn, startMailServer, tokenIn } from "../support/mail-server.ts";
import { inviteAndSignIn, type Person, type TestApp } from "../support/signed-in-app.ts";
import { startSmsGateway } from "../support/sms-gateway.ts";
import { WebClient } from "../support/web-client.ts";

const sms = await startSmsGateway();
after(() => sms.close());

const alice = { email: "alice@share.example", password: "alice shares with care 2026", name: "Alice" };
const bob = { email: "bob@share.example", password: "bob may only look here 2026", name: "Bob" };
const carol = { email: "carol@other.example", password: "carol runs another company", name: "Carol" };
const outsider = "erin@outside.example";
const outsiderPhone = "+15550001111";
const day = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * day).toISOString();

// The app as buildApp makes it, with real SMTP and SMS, a log that is kept, and the sharing routes
// (registered here until the server wires them itself).
async function startSharingApp(kind: DatabaseKind, logLines: string[]): Promise<TestApp> {
  const test = await openTestDatabase(kind);
  const dir = await mkdtemp(join(tmpdir(), "sr-share-"));
  const mail = await startMailServer();
  const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
  const ca = await readFile(certificate.certFile);
  const db = test.database.db;
  const vault = createVault(createVaultRepository(db));
  const { shares } = await vault.initialize(1, 1);
  await vault.submitShare(shares[0]!);
  const log = createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } });
  const messages = createMessageSender(
    { email: { kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "s@test.example" }, sms: { kind: "http", url: sms.url, token: sms.token } },
    { db, vault },
  );
  const identity = createIdentityDeps({ db, vault, messages, publicUrl: "https://localhost" });
  const blobStore = createFileBlobStore(join(dir, "blobs"));
  const app = await buildApp({
    vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test",
    identity, audit: createAuditTrail({ db, vault, log }), documents: { blobStore, maxUploadBytes: 4 * 1024 * 1024 },
  });
  if (!app.hasRoute({ method: "GET", url: "/v1/shared/:token" })) {
    await registerSharingRoutes(app, { db, vault, blobStore, messages, publicUrl: identity.publicUrl }, createAuthenticator(identity));
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

const tokenOf = (url: string) => /#token=([A-Za-z0-9_-]{43})$/.exec(url)?.[1] ?? assert.fail(`no token in ${url}`);

for (const kind of databaseKinds) {
  describe(`share links (${kind})`, { skip: await skipReason(kind) }, () => {
    const logLines: string[] = [];
    const issuedTokens: string[] = [];
    const issuedPins: string[] = [];
    let t: TestApp;
    let a: WebClient;
    let tenantA: string;
    let tenantB: string;
    let bobClient: WebClient;
    let bobId: string;
    let carolClient: WebClient;
    let documentId: string;
    let stranger: WebClient;
    const content = Buffer.concat([Buffer.from("%PDF-1.7\nshared contract\n"), randomBytes(300_000)]);
    const docPath = () => `/v1/tenants/${tenantA}/documents/${documentId}`;
    const share = async (client: WebClient, body: Record<string, unknown>, path = docPath()) => {
      const created = await client.post(`${path}/shares`, body);
      assert.equal(created.status, 201, created.text);
      const json = created.json();
      const token = tokenOf(json.url);
      issuedTokens.push(token);
      if (json.pin) issuedPins.push(json.pin);
      return { id: json.share.id as string, token, pin: json.pin as string | undefined, json };
    };
    const link = (token: string, rest = "") => `/v1/shared/${token}${rest}`;

    before(async () => {
      t = await startSharingApp(kind, logLines);
      stranger = new WebClient(t.base, t.ca);
      ({ client: a, tenantId: tenantA } = await t.signUp(alice, "Share Co"));
      ({ client: bobClient, userId: bobId } = await inviteAndSignIn(t, a, tenantA, bob, "member"));
      ({ client: carolClient, tenantId: tenantB } = await t.signUp(carol, "Other Co"));
      documentId = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Contract for Erin" })).json().id;
      const uploaded = await a.request("PUT", `${docPath()}/content?baseVersion=0`, content, { "x-content-type": "application/pdf", "x-filename": "contract.pdf" });
      assert.equal(uploaded.status, 201, uploaded.text);
    });

    after(() => t?.close());

    it("a link without a PIN, sent by e-mail, downloads exactly the bytes, and Range reads work", async () => {
      const since = t.mail.received.length;
      const { token, json } = await share(a, { expiresAt: inDays(7), recipientEmail: outsider });
      assert.deepEqual([json.linkSentTo, json.pin, json.share.status, json.share.pinRequired, json.share.recipient.email], ["email", undefined, "active", false, outsider]);
      assert.equal(tokenIn(await t.mail.next(outsider, since)), token, "the e-mail carries the link");
      const meta = await stranger.get(link(token));
      assert.deepEqual(meta.json(), { title: "Contract for Erin", size: content.length, pinRequired: false }, "the title, the size and whether a PIN is needed: nothing else");
      const whole = await stranger.get(link(token, "/content"));
      assert.equal(whole.status, 200);
      assert.ok(whole.bytes.equals(content));
      assert.match(String(whole.headers["content-disposition"]), /^attachment; filename\*=UTF-8''contract\.pdf$/);
      for (const [header, start, end] of [["bytes=0-0", 0, 0], ["bytes=10-99", 10, 99], ["bytes=-500", content.length - 500, content.length - 1], ["bytes=65530-131080", 65530, 131080]] as const) {
        const part = await stranger.request("GET", link(token, "/content"), undefined, { range: header });
        assert.deepEqual([part.status, part.headers["content-range"]], [206, `bytes ${start}-${end}/${content.length}`], header);
        assert.ok(part.bytes.equals(content.subarray(start, end + 1)), header);
      }
      const beyond = await stranger.request("GET", link(token, "/content"), undefined, { range: `bytes=${content.length}-` });
      assert.deepEqual([beyond.status, beyond.headers["content-range"]], [416, `bytes */${content.length}`]);
      const unlock = await stranger.post(link(token, "/unlock"), { pin: "123456" });
      assert.deepEqual([unlock.status, unlock.json().error], [409, "conflict"]);
    });

    it("with a PIN: no content before it; the right PIN earns a grant that works for that link only", async () => {
      const first = await share(a, { expiresAt: inDays(1), pin: true });
      const second = await share(a, { expiresAt: inDays(1), pin: true });
      assert.match(first.pin!, /^\d{6}$/, "without a phone number the PIN is shown once to the sharer");
      assert.equal((await stranger.get(link(first.token))).json().pinRequired, true);
      for (const extra of [{}, { "x-share-grant": "9999999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }] as Record<string, string>[]) {
        const refused = await stranger.request("GET", link(first.token, "/content"), undefined, extra);
        assert.deepEqual([refused.status, refused.json().error], [401, "pin_required"]);
        assert.ok(!refused.bytes.includes(content.subarray(0, 20)));
      }
      const wrong = await stranger.post(link(first.token, "/unlock"), { pin: first.pin === "000000" ? "000001" : "000000" });
      assert.deepEqual([wrong.status, wrong.json().error, wrong.json().details.attemptsLeft], [401, "pin_invalid", 4]);
      const unlocked = await stranger.post(link(first.token, "/unlock"), { pin: first.pin });
      assert.equal(unlocked.status, 200, unlocked.text);
      const { grant } = unlocked.json();
      for (let again = 0; again < 6; again++) assert.equal((await stranger.post(link(first.token, "/unlock"), { pin: first.pin })).status, 200, "the right PIN spends no attempt");
      const byHeader = await stranger.request("GET", link(first.token, "/content"), undefined, { "x-share-grant": grant });
      assert.ok(byHeader.bytes.equals(content));
      const byQuery = await stranger.request("GET", link(first.token, `/content?grant=${encodeURIComponent(grant)}`), undefined, { range: "bytes=100-199" });
      assert.ok(byQuery.bytes.equals(content.subarray(100, 200)));
      const otherLink = await stranger.request("GET", link(second.token, "/content"), undefined, { "x-share-grant": grant });
      assert.deepEqual([otherLink.status, otherLink.json().error], [401, "pin_required"], "a grant opens only its own link");
    });

    it("the link goes by e-mail and the PIN by SMS, each without the other", async () => {
      const since = t.mail.received.length;
      const smsBefore = sms.received.length;
      const { token, json } = await share(a, { expiresAt: inDays(3), pin: true, recipientEmail: outsider, recipientPhone: outsiderPhone });
      assert.deepEqual([json.linkSentTo, json.pinSentTo, json.pin], ["email", "sms", undefined], "a PIN sent by SMS is not shown to the sharer");
      const mailed = await t.mail.next(outsider, since);
      const texted = sms.received.slice(smsBefore).find((message) => message.to === outsiderPhone) ?? assert.fail("no SMS");
      const pin = /PIN .* is (\d{6})/.exec(texted.text)?.[1] ?? assert.fail("no PIN in the SMS");
      issuedPins.push(pin);
      assert.ok(!mailed.text.includes(pin) && !texted.text.includes(token), "neither message carries both");
      const unlocked = await stranger.post(link(tokenIn(mailed), "/unlock"), { pin });
      assert.equal(unlocked.status, 200);
      assert.ok((await stranger.request("GET", link(token, "/content"), undefined, { "x-share-grant": unlocked.json().grant })).bytes.equals(content));
      assert.equal((await a.post(`${docPath()}/shares`, { expiresAt: inDays(1), recipientPhone: outsiderPhone })).json().error, "validation_failed", "a phone number only receives a PIN");
    });

    it("five wrong PINs lock the link for good, even when guessed in parallel", async () => {
      const { id, token, pin } = await share(a, { expiresAt: inDays(1), pin: true });
      const wrongPin = pin === "111111" ? "222222" : "111111";
      for (let attempt = 1; attempt <= 4; attempt++) {
        const wrong = await stranger.post(link(token, "/unlock"), { pin: wrongPin });
        assert.deepEqual([wrong.status, wrong.json().error, wrong.json().details.attemptsLeft], [401, "pin_invalid", 5 - attempt]);
      }
      const fifth = await stranger.post(link(token, "/unlock"), { pin: wrongPin });
      assert.deepEqual([fifth.status, fifth.json().error], [403, "pin_locked"]);
      for (const response of [await stranger.post(link(token, "/unlock"), { pin }), await stranger.get(link(token)), await stranger.get(link(token, "/content"))]) {
        assert.deepEqual([response.status, response.json().error], [403, "pin_locked"]);
      }
      const listed = (await a.get(`${docPath()}/shares`)).json().shares.find((row: { id: string }) => row.id === id);
      assert.equal(listed.status, "locked");

      const raced = await share(a, { expiresAt: inDays(1), pin: true });
      const wrongGuess = (index: number) => String((Number(raced.pin) + 1 + index) % 1_000_000).padStart(6, "0");
      const guesses = await Promise.all(Array.from({ length: 12 }, (_, index) => stranger.post(link(raced.token, "/unlock"), { pin: wrongGuess(index) })));
      assert.equal(guesses.filter((response) => response.json().error === "pin_invalid").length, 4, "no more than five attempts count");
      assert.ok(guesses.every((response) => ["pin_invalid", "pin_locked"].includes(response.json().error)));
      assert.equal((await stranger.post(link(raced.token, "/unlock"), { pin: raced.pin })).json().error, "pin_locked");
    });

    it("an expiry is required and bounded, and an expired link fails", async () => {
      for (const body of [{}, { expiresAt: new Date(Date.now() - 1000).toISOString() }, { expiresAt: inDays(91) }, { expiresAt: "tomorrow" }]) {
        const refused = await a.post(`${docPath()}/shares`, body);
        assert.deepEqual([refused.status, refused.json().error], [400, "validation_failed"], JSON.stringify(body));
      }
      const { id, token } = await share(a, { expiresAt: inDays(90) });
      assert.equal((await stranger.get(link(token))).status, 200);
      await t.test.database.db.updateTable("document_shares").set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where("id", "=", id).execute();
      for (const response of [await stranger.get(link(token)), await stranger.get(link(token, "/content")), await stranger.post(link(token, "/unlock"), { pin: "123456" })]) {
        assert.deepEqual([response.status, response.json().error], [404, "not_found"]);
      }
    });

    it("a withdrawn link fails at once; an unknown or malformed token reveals nothing", async () => {
      const { id, token } = await share(a, { expiresAt: inDays(2) });
      assert.equal((await stranger.get(link(token, "/content"))).status, 200);
      const revoked = await a.request("DELETE", `${docPath()}/shares/${id}`);
      assert.deepEqual([revoked.status, revoked.json().status], [200, "revoked"]);
      for (const response of [await stranger.get(link(token)), await stranger.get(link(token, "/content"))]) {
        assert.deepEqual([response.status, response.json().error], [404, "not_found"]);
      }
      const listed = (await a.get(`${docPath()}/shares`)).json().shares.find((row: { id: string }) => row.id === id);
      assert.deepEqual([listed.status, typeof listed.revokedAt], ["revoked", "string"]);
      const unknown = await stranger.get(link(randomBytes(32).toString("base64url")));
      assert.deepEqual([unknown.status, unknown.json()], [404, (await stranger.get(link(token))).json()], "an unknown link and a withdrawn one look the same");
      assert.equal((await stranger.get(link("short"))).status, 400);
      assert.equal((await a.request("DELETE", `${docPath()}/shares/${randomBytes(16).toString("hex")}`)).status, 404);
    });

    it("a link of a document in the trash fails at once", async () => {
      const trashed = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Soon in the trash" })).json().id;
      const path = `/v1/tenants/${tenantA}/documents/${trashed}`;
      await a.request("PUT", `${path}/content?baseVersion=0`, randomBytes(1000), { "x-content-type": "application/octet-stream" });
      const { token } = await share(a, { expiresAt: inDays(2) }, path);
      assert.equal((await stranger.get(link(token, "/content"))).status, 200);
      assert.equal((await a.request("DELETE", path)).status, 200);
      for (const response of [await stranger.get(link(token)), await stranger.get(link(token, "/content"))]) assert.equal(response.status, 404);
      const refused = await a.post(`${path}/shares`, { expiresAt: inDays(1) });
      assert.equal(refused.status, 404, "no new link for a document in the trash");
      assert.equal((await a.get(`${path}/shares`)).status, 200, "its links can still be listed and withdrawn");
    });

    it("only those who manage the document share it; another company's member gets 404; the link stands on its creator's right", async () => {
      const { id } = await share(a, { expiresAt: inDays(2) });
      for (const [method, path] of [["POST", `${docPath()}/shares`], ["GET", `${docPath()}/shares`], ["DELETE", `${docPath()}/shares/${id}`]] as const) {
        const other = await carolClient.request(method, path, method === "POST" ? { expiresAt: inDays(1) } : undefined);
        assert.deepEqual([other.status, other.json().error], [404, "not_found"], `${method} ${path} by another company`);
        const unseen = await bobClient.request(method, path, method === "POST" ? { expiresAt: inDays(1) } : undefined);
        assert.deepEqual([unseen.status, unseen.json().error], [404, "not_found"], `${method} ${path} by a member who cannot see it`);
      }
      const viaTenantB = await carolClient.get(`/v1/tenants/${tenantB}/documents/${documentId}/shares`);
      assert.equal(viaTenantB.status, 404, "an id of one company does not work under another");
      const grant = (permission: string | null) => a.request("PUT", `/v1/tenants/${tenantA}/grants`, { resourceType: "document", resourceId: documentId, principalType: "user", principalId: bobId, permission });
      await grant("edit");
      const editor = await bobClient.post(`${docPath()}/shares`, { expiresAt: inDays(1) });
      assert.deepEqual([editor.status, editor.json().error], [403, "forbidden"], "edit is not enough: sharing outside needs manage");
      await grant("manage");
      const bobs = await share(bobClient, { expiresAt: inDays(1) });
      assert.equal((await stranger.get(link(bobs.token, "/content"))).status, 200);
      await grant("view");
      assert.equal((await stranger.get(link(bobs.token, "/content"))).status, 404, "once its creator may no longer share, the link stops");
      await grant("manage");
      assert.equal((await stranger.get(link(bobs.token))).status, 200);
      await grant(null);
    });

    it("every request through a link is on the company's audit trail, with the link but never its token", async () => {
      const { id, token } = await share(a, { expiresAt: inDays(1) });
      await stranger.get(link(token, "/content"));
      await stranger.request("GET", link(token, "/content"), undefined, { range: "bytes=0-9" });
      const downloads = (await a.get(`/v1/tenants/${tenantA}/audit?action=${encodeURIComponent("GET /v1/shared/:token/content")}&limit=500`)).json().records;
      const mine = downloads.filter((record: { details: { shareId?: string } }) => record.details.shareId === id);
      assert.equal(mine.length, 2);
      for (const record of mine) {
        assert.deepEqual([record.actor.type, record.result, record.object.token, record.details.documentId], ["anonymous", "ok", "[redacted]", documentId]);
      }
      assert.deepEqual(mine.map((record: { details: { range: boolean } }) => record.details.range).sort(), [false, true]);
      const unlocks = (await a.get(`/v1/tenants/${tenantA}/audit?action=${encodeURIComponent("POST /v1/shared/:token/unlock")}&limit=500`)).json().records;
      assert.ok(unlocks.some((record: { errorCode: string | null }) => record.errorCode === "pin_invalid"), "wrong PINs are on the company's trail");
      assert.ok(unlocks.some((record: { result: string }) => record.result === "ok"));
      const created = (await a.get(`/v1/tenants/${tenantA}/audit?action=${encodeURIComponent("POST /v1/tenants/:tenantId/documents/:id/shares")}`)).json().records;
      assert.ok(created.some((record: { details: { shareId?: string } }) => record.details.shareId === id));
      const elsewhere = (await carolClient.get(`/v1/tenants/${tenantB}/audit?limit=500`)).json().records;
      assert.ok(!elsewhere.some((record: { action: string }) => record.action.startsWith("GET /v1/shared/") || record.action.startsWith("POST /v1/shared/")));
    });

    it("no token and no PIN is in a log line or a database row", async () => {
      assert.ok(issuedTokens.length >= 10 && issuedPins.length >= 5);
      const logs = logLines.join("");
      assert.ok(logs.includes("/v1/shared/:token/content"), "link requests are logged, by their pattern");
      const dump = kind === "sqlite"
        ? (await Promise.all((await readdir(t.test.dataDir!)).map((file) => readFile(join(t.test.dataDir!, file))))).map((bytes) => bytes.toString("latin1")).join("")
        : (await promisify(execFile)("pg_dump", ["--data-only", (t.test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      assert.ok(dump.includes(tenantA), "the dump is searchable");
      for (const token of issuedTokens) {
        assert.ok(!logs.includes(token), "a link token is in the log");
        assert.ok(!dump.includes(token), "a link token is in the database");
      }
      for (const pin of issuedPins) {
        const standalone = new RegExp(`(^|[^0-9A-Za-z])${pin}([^0-9A-Za-z]|$)`);
        assert.ok(!standalone.test(logs), "a PIN is in the log");
        assert.ok(!standalone.test(dump), "a PIN is in the database");
      }
    });
  });
}
