// Signature requests end to end over HTTPS, on SQLite and PostgreSQL, with a real SMTP server and SMS
// gateway: two sequential signers reading link and PIN from their mailboxes, a wrong PIN, the second
// refused before their turn, consent, fields, completion through the seal and the final PDF to every
// party; five wrong PINs lock a link until the sender issues a new PIN; expired, cancelled, declined
// and completed links show nothing; another company sees nothing; reminders and expiry on a given
// clock; every step on the request's evidence and the company's audit trail; no token or PIN in a log
// line or a database row.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createMessageSender } from "../../src/modules/messages/create-message-sender.ts";
import { createSecurityEvents, type SecurityEvent } from "../../src/modules/monitoring/security-events.ts";
import type { SealSignedDocument, SigningDeps } from "../../src/modules/signing/signing-deps.ts";
import { runSigningSchedule } from "../../src/modules/signing/run-signing-schedule.ts";
import { runWebhookDeliveries } from "../../src/modules/signing/signing-webhooks.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import type { DatabaseKind } from "../../src/store/database.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason } from "../support/databases.ts";
import { codeIn, startMailServer, tokenIn, type ReceivedMail } from "../support/mail-server.ts";
import { pdfsig } from "../support/pdfs.ts";
import { makeTestPdf } from "../support/sample-pdf.ts";
import type { Person, TestApp } from "../support/signed-in-app.ts";
import { startSmsGateway } from "../support/sms-gateway.ts";
import { WebClient } from "../support/web-client.ts";
import { sealSignedDocument } from "../../src/modules/seals/seal-signed-document.ts";

const sms = await startSmsGateway();
after(() => sms.close());

const alice = { email: "alice@signing.example", password: "alice sends contracts out 2026", name: "Alice Sender" };
const carol = { email: "carol@other-signing.example", password: "carol runs another company 26", name: "Carol" };
const signer1 = { name: "Sam First", email: "sam@signers.example" };
const signer2 = { name: "Tess Second", email: "tess@signers.example" };
const watcher = { name: "Vic Viewer", email: "vic@signers.example" };
const phoneSigner = { name: "Pat Phone", email: "pat@signers.example", phone: "+15550002222" };
const day = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * day).toISOString();
const pdf = makeTestPdf(["Strongroom signing contract", "Second page"]);
// A 1x1 transparent PNG, as a drawn signature arrives from the canvas.
const drawnSignature = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

type SigningApp = TestApp & { deps: SigningDeps; events: SecurityEvent[]; receiver: Receiver };
type Hit = { path: string; headers: Record<string, string | string[] | undefined>; body: string };
type Receiver = { server: Server; port: number; hits: Hit[] };

// A real HTTPS webhook receiver: /flaky fails its first two hits, /gone answers 410, anything else 204.
async function startReceiver(cert: Buffer, key: Buffer): Promise<Receiver> {
  const hits: Hit[] = [];
  const server = createServer({ cert, key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const path = request.url ?? "/";
      hits.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      const flakyFailure = path === "/flaky" && hits.filter((hit) => hit.path === "/flaky").length <= 2;
      response.statusCode = flakyFailure ? 503 : path === "/gone" ? 410 : 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

// wrapSeal: a test may put a failure in front of the real seal.
async function startSigningApp(kind: DatabaseKind, logLines: string[], wrapSeal = (real: SealSignedDocument) => real): Promise<SigningApp> {
  const test = await openTestDatabase(kind);
  const dir = await mkdtemp(join(tmpdir(), "sr-sign-"));
  const mail = await startMailServer();
  const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
  const ca = await readFile(certificate.certFile);
  const db = test.database.db;
  const vault = createVault(createVaultRepository(db));
  const { shares } = await vault.initialize(1, 1);
  await vault.submitShare(shares[0]!);
  const seal = wrapSeal((input, options) => sealSignedDocument({ db, vault }, input, options));
  const log = createLogger({ level: "debug", destination: { write: (line: string) => void logLines.push(line) } });
  const messages = createMessageSender(
    { email: { kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "s@test.example" }, sms: { kind: "http", url: sms.url, token: sms.token } },
    { db, vault },
  );
  const securityEvents = createSecurityEvents();
  const events: SecurityEvent[] = [];
  securityEvents.subscribe((event) => void events.push(event));
  const identity = createIdentityDeps({ db, vault, messages, publicUrl: "https://localhost", events: securityEvents });
  const blobStore = createFileBlobStore(join(dir, "blobs"));
  const audit = createAuditTrail({ db, vault, log });
  const receiverCertificate = await ensureSelfSignedCertificate(join(dir, "receiver"));
  const receiverCa = await readFile(receiverCertificate.certFile);
  const receiver = await startReceiver(receiverCa, await readFile(receiverCertificate.keyFile));
  const app = await buildApp({
    vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test",
    identity, audit, documents: { blobStore, maxUploadBytes: 4 * 1024 * 1024 }, signing: { sealSignedDocument: seal, webhooks: { allowLoopback: true, trustedCa: receiverCa, timeoutMs: 5_000 } },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `https://localhost:${(app.server.address() as { port: number }).port}`;
  const webhooks = { db, vault, log, transport: { timeoutMs: 5_000, policy: { allowLoopback: true } }, ca: [receiverCa.toString("utf8")] };
  const deps: SigningDeps = { db, vault, messages, blobStore, publicUrl: "https://localhost", sealSignedDocument: seal, audit, log, webhooks };

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
    app, base, ca, vault, test, mail, dir, signIn, deps, events, receiver,
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
      await new Promise((resolve) => receiver.server.close(resolve));
      await test.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// The mails that reached an address after `since`, waiting a little for them.
async function mailsTo(t: TestApp, to: string, since: number, count: number): Promise<ReceivedMail[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = t.mail.received.slice(since).filter((mail) => mail.to.includes(to.toLowerCase()));
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${count} mails arrived for ${to}`);
}

const pinIn = (text: string) => /PIN (\d{6})/.exec(text)?.[1] ?? assert.fail("no PIN in the message");

for (const kind of databaseKinds) {
  describe(`signature requests (${kind})`, { skip: await skipReason(kind) }, () => {
    const logLines: string[] = [];
    const issuedTokens: string[] = [];
    const issuedPins: string[] = [];
    let t: SigningApp;
    let a: WebClient;
    let tenantA: string;
    let tenantB: string;
    let carolClient: WebClient;
    let documentId: string;
    let stranger: WebClient;
    const requests = () => `/v1/tenants/${tenantA}/signature-requests`;
    const link = (token: string, rest = "") => `/v1/sign/${token}${rest}`;
    const session = (value: string) => ({ "x-signing-session": value });

    // The link and PIN e-mails a recipient received after `since`.
    const linkAndPin = async (to: string, since: number) => {
      const mails = await mailsTo(t, to, since, 2);
      const token = tokenIn(mails.find((mail) => mail.text.includes("#token=")) ?? assert.fail(`no link e-mail in ${mails.map((mail) => mail.raw).join("\n----\n")}`));
      const pinMail = mails.find((mail) => /PIN \d{6}/.test(mail.text)) ?? assert.fail("no PIN e-mail");
      assert.ok(!pinMail.text.includes(token), "the PIN does not travel with the link");
      const pin = pinIn(pinMail.text);
      issuedTokens.push(token);
      issuedPins.push(pin);
      return { token, pin };
    };
    const unlock = async (token: string, pin: string) => {
      const unlocked = await stranger.post(link(token, "/pin"), { pin });
      assert.equal(unlocked.status, 200, unlocked.text);
      return unlocked.json().session as string;
    };
    const create = async (body: Record<string, unknown>) => {
      const created = await a.post(requests(), { documentId, order: "sequential", expiresAt: inDays(7), ...body });
      assert.equal(created.status, 201, created.text);
      return created.json();
    };
    const signWithSession = async (token: string, pin: string) => {
      const s = await unlock(token, pin);
      assert.equal((await stranger.request("POST", link(token, "/consent"), {}, session(s))).status, 200);
      const mine = (await stranger.request("GET", link(token, "/request"), undefined, session(s))).json();
      const values = mine.fields.map((field: { id: string; kind: string }) => ({ fieldId: field.id, value: field.kind === "checkbox" ? "true" : field.kind === "signature" ? "Typed Name" : "x" }));
      return stranger.request("POST", link(token, "/sign"), { fields: values }, session(s));
    };

    before(async () => {
      t = await startSigningApp(kind, logLines);
      stranger = new WebClient(t.base, t.ca);
      ({ client: a, tenantId: tenantA } = await t.signUp(alice, "Signing Co"));
      ({ client: carolClient, tenantId: tenantB } = await t.signUp(carol, "Other Co"));
      documentId = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Service agreement" })).json().id;
      const uploaded = await a.request("PUT", `/v1/tenants/${tenantA}/documents/${documentId}/content?baseVersion=0`, pdf, { "x-content-type": "application/pdf", "x-filename": "agreement.pdf" });
      assert.equal(uploaded.status, 201, uploaded.text);
    });

    after(() => t?.close());

    it("two sequential signers: link and PIN by mail, a wrong PIN, the second refused before their turn, signed, sealed, sent to every party", async () => {
      const since = t.mail.received.length;
      const created = await create({
        title: "Service agreement 2026", message: "Please sign by Friday.", reminderDays: 2, send: true,
        recipients: [{ ...signer1, role: "signer" }, { ...signer2, role: "signer" }, { ...watcher, role: "viewer" }],
        fields: [
          { recipient: 0, kind: "signature", page: 0, x: 72, y: 100, width: 200, height: 50 },
          { recipient: 0, kind: "date", page: 0, x: 300, y: 100, width: 100, height: 20, required: true },
          { recipient: 0, kind: "checkbox", page: 1, x: 72, y: 200, width: 12, height: 12 },
          { recipient: 1, kind: "text", page: 1, x: 72, y: 300, width: 200, height: 20, required: true },
        ],
      });
      assert.deepEqual([created.status, created.order, created.recipients.map((r: { status: string }) => r.status)], ["sent", "sequential", ["sent", "waiting", "cc"]]);
      assert.equal(created.fields.length, 5, "the second signer, with no signature field, signs on an appended page");
      assert.ok(created.fields.some((field: { page: number; kind: string; recipientId: string }) => field.page === -1 && field.kind === "signature" && field.recipientId === created.recipients[1].id));
      const first = await linkAndPin(signer1.email, since);
      assert.equal(t.mail.received.slice(since).filter((mail) => mail.to.includes(signer2.email)).length, 0, "the second signer hears nothing before the first has signed");

      // Before the PIN: the company's name and that a PIN is needed, nothing of the document.
      const opened = await stranger.get(link(first.token));
      assert.deepEqual(opened.json(), { company: "Signing Co", pinRequired: true, expiresAt: created.expiresAt });
      for (const path of ["/request", "/document"]) {
        const refused = await stranger.get(link(first.token, path));
        assert.deepEqual([refused.status, refused.json().error], [401, "pin_required"], path);
      }
      const forged = await stranger.request("GET", link(first.token, "/document"), undefined, session(`${Date.now() + 60_000}.${"A".repeat(43)}`));
      assert.equal(forged.status, 401);
      const wrong = await stranger.post(link(first.token, "/pin"), { pin: first.pin === "000000" ? "000001" : "000000" });
      assert.deepEqual([wrong.status, wrong.json().error, wrong.json().details.attemptsLeft], [401, "pin_invalid", 4]);
      const s1 = await unlock(first.token, first.pin);

      const asked = (await stranger.request("GET", link(first.token, "/request"), undefined, session(s1))).json();
      assert.deepEqual([asked.company, asked.title, asked.message, asked.recipient.name, asked.yourTurn, asked.fields.length], ["Signing Co", "Service agreement 2026", "Please sign by Friday.", signer1.name, true, 3]);
      const viewed = await stranger.request("GET", link(first.token, "/document"), undefined, session(s1));
      assert.equal(viewed.status, 200);
      assert.ok(viewed.bytes.equals(pdf), "the signer sees exactly the document sent");

      // The second signer's turn has not come: even with a link (as if leaked early), signing is refused.
      const early = randomBytes(32).toString("base64url");
      const { signingTokenHash, signingPinHash } = await import("../../src/modules/signing/signing-secrets.ts");
      const secondId = created.recipients[1].id as string;
      await t.test.database.db.updateTable("signature_recipients").set({ status: "sent", token_hash: signingTokenHash(t.vault, early), pin_hash: signingPinHash(t.vault, secondId, "424242") })
        .where("id", "=", secondId).execute();
      const earlySession = await unlock(early, "424242");
      await stranger.request("POST", link(early, "/consent"), {}, session(earlySession));
      const notYet = await stranger.request("POST", link(early, "/sign"), { fields: [] }, session(earlySession));
      assert.deepEqual([notYet.status, notYet.json().error], [409, "not_your_turn"]);
      await t.test.database.db.updateTable("signature_recipients").set({ status: "waiting", token_hash: null, pin_hash: null, consent_at: null }).where("id", "=", secondId).execute();

      const mine = asked.fields as { id: string; kind: string }[];
      const value = (kind: string) => mine.find((field) => field.kind === kind)!.id;
      const noConsent = await stranger.request("POST", link(first.token, "/sign"), { fields: [] }, session(s1));
      assert.deepEqual([noConsent.status, noConsent.json().error], [409, "consent_required"]);
      assert.equal((await stranger.request("POST", link(first.token, "/consent"), {}, session(s1))).status, 200);
      const incomplete = await stranger.request("POST", link(first.token, "/sign"), { fields: [{ fieldId: value("signature"), value: drawnSignature }] }, session(s1));
      assert.deepEqual([incomplete.status, incomplete.json().error, incomplete.json().details.fieldIds.length], [400, "fields_incomplete", 1]);
      const notPng = await stranger.request("POST", link(first.token, "/sign"), { fields: [{ fieldId: value("signature"), value: "data:image/png;base64,AAAA" }] }, session(s1));
      assert.deepEqual([notPng.status, notPng.json().error], [400, "validation_failed"]);
      const foreign = await stranger.request("POST", link(first.token, "/sign"), { fields: [{ fieldId: created.fields.find((field: { recipientId: string }) => field.recipientId === secondId).id, value: "x" }] }, session(s1));
      assert.deepEqual([foreign.status, foreign.json().error], [400, "validation_failed"], "a field of another recipient cannot be filled");

      const since2 = t.mail.received.length;
      const signed = await stranger.request("POST", link(first.token, "/sign"), {
        fields: [{ fieldId: value("signature"), value: drawnSignature }, { fieldId: value("date"), value: "2026-12-03" }, { fieldId: value("checkbox"), value: "true" }],
      }, session(s1));
      assert.deepEqual([signed.status, signed.json().status], [200, "signed"], signed.text);
      assert.equal((await stranger.get(link(first.token))).status, 404, "a used link shows nothing");

      const second = await linkAndPin(signer2.email, since2);
      const signedSecond = await signWithSession(second.token, second.pin);
      assert.deepEqual([signedSecond.status, signedSecond.json().status], [200, "completed"], signedSecond.text);

      const done = (await a.get(`${requests()}/${created.id}`)).json();
      assert.deepEqual([done.status, done.recipients.map((r: { status: string }) => r.status), done.fields.filter((f: { filled: boolean }) => f.filled).length], ["completed", ["signed", "signed", "cc"], 5]);
      const events = done.evidence.map((row: { event: string }) => row.event);
      for (const event of ["created", "sent", "delivered", "opened", "pin_failed", "pin_ok", "viewed", "consented", "signed", "completed", "final_sent"]) assert.ok(events.includes(event), `evidence of ${event}`);
      const pinFailed = done.evidence.find((row: { event: string }) => row.event === "pin_failed");
      assert.deepEqual([pinFailed.ip, pinFailed.userAgent, pinFailed.recipientId], ["127.0.0.1", "strongroom-test/1.0", created.recipients[0].id]);

      const final = await a.get(`${requests()}/${created.id}/final-pdf`);
      assert.equal(final.status, 200);
      assert.equal(final.headers["content-type"], "application/pdf");
      assert.ok(final.bytes.subarray(0, 5).equals(Buffer.from("%PDF-")));
      assert.equal(final.headers["x-seal-sha256"], done.final.sha256);
      assert.equal(done.final.sha256, createHash("sha256").update(final.bytes).digest("hex"));
      const verified = await stranger.request("POST", "/v1/verify", final.bytes, { "content-type": "application/pdf" });
      assert.equal(verified.json().status, "sealed", verified.text);
      const report = await pdfsig(final.bytes);
      assert.ok(report.valid && report.wholeDocument, `pdfsig accepts the PAdES signature over the whole final PDF: ${report.output}`);
      for (const party of [signer1.email, signer2.email, watcher.email, alice.email]) {
        const mails = await mailsTo(t, party, since2, 1);
        const finalMail = mails.find((mail) => mail.raw.includes("application/pdf")) ?? assert.fail(`no final PDF for ${party}`);
        const attached = /name="Service agreement 2026 \(signed\)\.pdf"[\s\S]*?\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(finalMail.raw)?.[1] ?? assert.fail("no named attachment");
        assert.ok(Buffer.from(attached.replace(/\r\n/g, ""), "base64").equals(final.bytes), `${party} received the final PDF`);
      }
      for (const token of [first.token, second.token]) {
        for (const path of ["", "/request", "/document"]) assert.equal((await stranger.get(link(token, path))).status, 404, "a completed request's links show nothing");
      }
    });

    it("five wrong PINs lock the link; the sender issues a new PIN, which opens it again", async () => {
      const since = t.mail.received.length;
      const created = await create({ order: "parallel", send: true, recipients: [{ ...phoneSigner, role: "signer" }] });
      const linkMail = (await mailsTo(t, phoneSigner.email, since, 1))[0]!;
      const token = tokenIn(linkMail);
      issuedTokens.push(token);
      const texted = sms.received.filter((message) => message.to === phoneSigner.phone).at(-1) ?? assert.fail("no SMS");
      const pin = pinIn(texted.text);
      issuedPins.push(pin);
      assert.ok(!linkMail.text.includes(pin) && !texted.text.includes(token), "a phone number gets the PIN by SMS, apart from the link");
      const wrongPin = pin === "111111" ? "222222" : "111111";
      for (let attempt = 1; attempt <= 4; attempt++) {
        const wrong = await stranger.post(link(token, "/pin"), { pin: wrongPin });
        assert.deepEqual([wrong.status, wrong.json().details.attemptsLeft], [401, 5 - attempt]);
      }
      assert.deepEqual((await stranger.post(link(token, "/pin"), { pin: wrongPin })).json().error, "pin_locked");
      for (const response of [await stranger.post(link(token, "/pin"), { pin }), await stranger.get(link(token)), await stranger.get(link(token, "/document"))]) {
        assert.deepEqual([response.status, response.json().error], [403, "pin_locked"]);
      }
      const listed = (await a.get(`${requests()}/${created.id}`)).json();
      assert.deepEqual([listed.recipients[0].locked, listed.recipients[0].pinFailures], [true, 5]);
      assert.ok(listed.evidence.some((row: { event: string }) => row.event === "pin_locked"));
      const smsBefore = sms.received.length;
      const renewed = await a.post(`${requests()}/${created.id}/recipients/${created.recipients[0].id}/new-pin`);
      assert.equal(renewed.status, 200, renewed.text);
      const newPin = pinIn(sms.received.slice(smsBefore).find((message) => message.to === phoneSigner.phone)?.text ?? assert.fail("no new PIN"));
      issuedPins.push(newPin);
      assert.equal((await a.post(`${requests()}/${created.id}/recipients/${created.recipients[0].id}/new-pin`)).json().error, "conflict", "only a locked link gets a new PIN");
      const signed = await signWithSession(token, newPin);
      assert.deepEqual([signed.status, signed.json().status], [200, "completed"]);
    });

    it("parallel guesses cannot exceed five attempts", async () => {
      const since = t.mail.received.length;
      await create({ order: "parallel", send: true, recipients: [{ name: "Raced", email: "raced@signers.example", role: "signer" }] });
      const { token, pin } = await linkAndPin("raced@signers.example", since);
      const guess = (index: number) => String((Number(pin) + 1 + index) % 1_000_000).padStart(6, "0");
      const guesses = await Promise.all(Array.from({ length: 12 }, (_, index) => stranger.post(link(token, "/pin"), { pin: guess(index) })));
      assert.equal(guesses.filter((response) => response.json().error === "pin_invalid").length, 4);
      assert.equal((await stranger.post(link(token, "/pin"), { pin })).json().error, "pin_locked");
    });

    it("cancelled, declined and expired requests' links show nothing, like an unknown link", async () => {
      const unknown = await stranger.get(link(randomBytes(32).toString("base64url")));
      assert.equal(unknown.status, 404);
      const open = async (email: string, order = "parallel", extra: Record<string, unknown> = {}) => {
        const since = t.mail.received.length;
        const created = await create({ order, send: true, recipients: [{ name: "Someone", email, role: "signer" }], ...extra });
        return { created, ...(await linkAndPin(email, since)) };
      };
      const cancelled = await open("cancel@signers.example");
      const s = await unlock(cancelled.token, cancelled.pin);
      const withdrawn = await a.post(`${requests()}/${cancelled.created.id}/cancel`);
      assert.equal(withdrawn.json().status, "cancelled");
      assert.equal((await a.post(`${requests()}/${cancelled.created.id}/cancel`)).json().error, "conflict");
      assert.equal((await a.post(`${requests()}/${cancelled.created.id}/remind`)).json().error, "conflict");
      for (const response of [await stranger.get(link(cancelled.token)), await stranger.request("GET", link(cancelled.token, "/document"), undefined, session(s)), await stranger.post(link(cancelled.token, "/pin"), { pin: cancelled.pin })]) {
        assert.deepEqual([response.status, response.json()], [404, unknown.json()]);
      }

      const declineSince = t.mail.received.length;
      const declinedRequest = await create({ order: "parallel", send: true, recipients: [{ name: "Decliner", email: "decline@signers.example", role: "signer" }, { name: "Other", email: "other-signer@signers.example", role: "signer" }] });
      const declined = { created: declinedRequest, ...(await linkAndPin("decline@signers.example", declineSince)) };
      const otherSigner = await linkAndPin("other-signer@signers.example", declineSince);
      const otherSession = await unlock(otherSigner.token, otherSigner.pin);
      const ds = await unlock(declined.token, declined.pin);
      const since = t.mail.received.length;
      const noReason = await stranger.request("POST", link(declined.token, "/decline"), { reason: "   " }, session(ds));
      assert.equal(noReason.status, 400);
      const refused = await stranger.request("POST", link(declined.token, "/decline"), { reason: "The fee in clause 4 is wrong." }, session(ds));
      assert.equal(refused.status, 200, refused.text);
      const told = (await mailsTo(t, alice.email, since, 1))[0]!;
      assert.match(told.text, /clause 4/);
      const view = (await a.get(`${requests()}/${declined.created.id}`)).json();
      assert.deepEqual([view.status, view.recipients[0].status, view.recipients[0].declineReason], ["declined", "declined", "The fee in clause 4 is wrong."]);
      assert.deepEqual([(await stranger.get(link(declined.token))).status, (await stranger.request("GET", link(declined.token, "/document"), undefined, session(ds))).status], [404, 404]);
      assert.deepEqual([(await stranger.get(link(otherSigner.token))).status, (await stranger.request("GET", link(otherSigner.token, "/document"), undefined, session(otherSession))).status], [404, 404],
        "one decline ends the request for every recipient");

      const expiring = await open("expire@signers.example");
      const result = await runSigningSchedule(t.deps, Date.now() + 8 * day);
      assert.ok(result.expired >= 1);
      assert.equal((await a.get(`${requests()}/${expiring.created.id}`)).json().status, "expired");
      assert.deepEqual([(await stranger.get(link(expiring.token))).status, (await stranger.post(link(expiring.token, "/pin"), { pin: expiring.pin })).status], [404, 404]);
    });

    it("a document emptied from the trash cancels its open requests; their links show nothing", async () => {
      const doomed = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Doomed" })).json().id;
      await a.request("PUT", `/v1/tenants/${tenantA}/documents/${doomed}/content?baseVersion=0`, pdf, { "x-content-type": "application/pdf" });
      const since = t.mail.received.length;
      const created = await create({ documentId: doomed, order: "parallel", send: true, recipients: [{ name: "Purged", email: "purged@signers.example", role: "signer" }] });
      const { token } = await linkAndPin("purged@signers.example", since);
      assert.equal((await a.request("DELETE", `/v1/tenants/${tenantA}/documents/${doomed}`)).status, 200);
      assert.equal((await a.request("DELETE", `/v1/tenants/${tenantA}/trash`)).status, 200);
      assert.equal((await a.get(`${requests()}/${created.id}`)).json().status, "cancelled");
      assert.equal((await stranger.get(link(token))).status, 404);
    });

    it("reminders go to pending recipients at the request's interval, with a fresh link", async () => {
      const since = t.mail.received.length;
      const created = await create({ order: "sequential", send: true, reminderDays: 1, expiresAt: inDays(20), recipients: [{ name: "Slow", email: "slow@signers.example", role: "signer" }, { name: "Later", email: "later@signers.example", role: "approver" }] });
      const first = await linkAndPin("slow@signers.example", since);
      const quiet = await runSigningSchedule(t.deps, Date.now() + 0.5 * day);
      assert.equal(t.mail.received.slice(since).filter((mail) => mail.to.includes("slow@signers.example")).length, 2, `no reminder before the interval (${JSON.stringify(quiet)})`);
      const before2 = t.mail.received.length;
      const runs = await Promise.all([runSigningSchedule(t.deps, Date.now() + 1.5 * day), runSigningSchedule(t.deps, Date.now() + 1.5 * day)]);
      assert.equal(runs[0].reminded + runs[1].reminded, 1, "two schedules running at once send one reminder");
      const reminded = await linkAndPin("slow@signers.example", before2);
      assert.equal(t.mail.received.slice(before2).filter((mail) => mail.to.includes("slow@signers.example")).length, 2, "one link and one PIN");
      assert.notEqual(reminded.token, first.token);
      assert.ok((await mailsTo(t, "slow@signers.example", before2, 2)).some((mail) => mail.text.includes("This link replaces any earlier one.")));
      assert.equal((await stranger.get(link(first.token))).status, 404, "the reminder's link replaces the old one");
      assert.equal(t.mail.received.slice(since).filter((mail) => mail.to.includes("later@signers.example")).length, 0, "the approver waits for their turn");
      const signed = await signWithSession(reminded.token, reminded.pin);
      assert.equal(signed.json().status, "signed");
      const approverMails = await linkAndPin("later@signers.example", before2);
      const approved = await signWithSession(approverMails.token, approverMails.pin);
      assert.equal(approved.json().status, "completed");
      const evidence = (await a.get(`${requests()}/${created.id}`)).json().evidence.map((row: { event: string }) => row.event);
      assert.ok(evidence.includes("reminded") && evidence.includes("approved"));
    });

    it("a link whose sending failed is sent by the schedule, once even when two schedules run at once", async () => {
      const created = await create({ order: "parallel", send: true, recipients: [{ name: "Retry", email: "retry@signers.example", role: "signer" }] });
      // As if the relay had refused the first sending: the recipient waits for their link.
      await t.test.database.db.updateTable("signature_recipients").set({ status: "waiting", token_hash: null, pin_hash: null, notified_at: null })
        .where("id", "=", created.recipients[0].id).execute();
      const since = t.mail.received.length;
      await Promise.all([runSigningSchedule(t.deps), runSigningSchedule(t.deps)]);
      const { token, pin } = await linkAndPin("retry@signers.example", since);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(t.mail.received.slice(since).filter((mail) => mail.to.includes("retry@signers.example")).length, 2, "one link and one PIN");
      assert.equal((await signWithSession(token, pin)).json().status, "completed");
      const [first, second] = await Promise.all([
        a.post(`${requests()}/${created.id}/send`), a.post(`${requests()}/${created.id}/send`),
      ]);
      assert.deepEqual([first.json().error, second.json().error], ["conflict", "conflict"], "only a draft is sent");
    });

    it("bad input gets a clear 4xx; only PDFs; limits hold", async () => {
      const good = { documentId, order: "parallel", expiresAt: inDays(3), recipients: [{ ...signer1, role: "signer" }] };
      const bad: [Record<string, unknown>, number, string][] = [
        [{ ...good, expiresAt: new Date(Date.now() - 1000).toISOString() }, 400, "validation_failed"],
        [{ ...good, expiresAt: inDays(181) }, 400, "validation_failed"],
        [{ ...good, recipients: [] }, 400, "validation_failed"],
        [{ ...good, recipients: [{ ...watcher, role: "viewer" }] }, 400, "validation_failed"],
        [{ ...good, recipients: Array.from({ length: 21 }, (_, i) => ({ name: `R${i}`, email: `r${i}@x.example`, role: "signer" })) }, 400, "validation_failed"],
        [{ ...good, recipients: [{ ...signer1, role: "signer" }, { ...signer1, role: "signer" }] }, 400, "validation_failed"],
        [{ ...good, fields: [{ recipient: 1, kind: "text", page: 0, x: 0, y: 0, width: 10, height: 10 }] }, 400, "validation_failed"],
        [{ ...good, recipients: [{ ...signer1, role: "signer" }, { ...watcher, role: "viewer" }], fields: [{ recipient: 1, kind: "text", page: 0, x: 0, y: 0, width: 10, height: 10 }] }, 400, "validation_failed"],
        [{ ...good, fields: Array.from({ length: 201 }, () => ({ recipient: 0, kind: "text", page: 0, x: 0, y: 0, width: 10, height: 10 })) }, 400, "validation_failed"],
        [{ ...good, message: "x".repeat(2001) }, 400, "validation_failed"],
        [{ ...good, documentId: "nope" }, 404, "not_found"],
      ];
      for (const [body, status, error] of bad) {
        const refused = await a.post(requests(), body);
        assert.deepEqual([refused.status, refused.json().error], [status, error], JSON.stringify(body).slice(0, 200));
      }
      const notPdf = (await a.post(`/v1/tenants/${tenantA}/documents`, { title: "Not a PDF" })).json().id;
      await a.request("PUT", `/v1/tenants/${tenantA}/documents/${notPdf}/content?baseVersion=0`, Buffer.from("plain text, claiming to be a PDF"), { "x-content-type": "application/pdf" });
      const refusedText = await a.post(requests(), { ...good, documentId: notPdf });
      assert.deepEqual([refusedText.status, refusedText.json().error], [400, "validation_failed"]);
      const draft = (await a.post(requests(), good)).json();
      assert.equal(draft.status, "draft");
      assert.equal((await a.post(`${requests()}/${draft.id}/send`)).json().status, "sent");
      assert.equal((await a.post(`${requests()}/${draft.id}/send`)).json().error, "conflict");
      assert.equal((await a.get(`${requests()}/${draft.id}/final-pdf`)).json().error, "conflict");
      const bigBody = await stranger.request("POST", link(randomBytes(32).toString("base64url"), "/sign"), { fields: [{ fieldId: "x", value: "y".repeat(600_000) }] });
      assert.equal(bigBody.status, 413);
    });

    it("API keys need the sign scope", async () => {
      const make = async (scopes: string[]) => (await a.post(`/v1/tenants/${tenantA}/api-keys`, { name: scopes.join("+"), scopes })).json().key as string;
      const basic = (key: string) => new WebClient(t.base, t.ca, { authorization: `Basic ${Buffer.from(key).toString("base64")}` });
      const reader = basic(await make(["read"]));
      const refused = await reader.post(requests(), { documentId, order: "parallel", expiresAt: inDays(3), recipients: [{ ...signer1, role: "signer" }] });
      assert.deepEqual([refused.status, refused.json().error], [403, "insufficient_scope"]);
      const signerKey = basic(await make(["sign"]));
      const created = await signerKey.post(requests(), { documentId, order: "parallel", expiresAt: inDays(3), recipients: [{ ...signer1, role: "signer" }] });
      assert.equal(created.status, 201, created.text);
      assert.equal((await signerKey.get(`${requests()}/${created.json().id}`)).status, 200);
    });

    it("another company sees nothing: A's ids are 404 for B, and A's links name only A", async () => {
      const since = t.mail.received.length;
      const created = await create({ order: "parallel", send: true, recipients: [{ name: "Cross", email: "cross@signers.example", role: "signer" }] });
      const { token, pin } = await linkAndPin("cross@signers.example", since);
      const base = `/v1/tenants/${tenantA}/signature-requests`;
      for (const [method, path] of [["GET", base], ["POST", base], ["GET", `${base}/${created.id}`], ["POST", `${base}/${created.id}/cancel`], ["POST", `${base}/${created.id}/remind`],
        ["POST", `${base}/${created.id}/send`], ["GET", `${base}/${created.id}/final-pdf`], ["POST", `${base}/${created.id}/recipients/${created.recipients[0].id}/new-pin`]] as const) {
        const other = await carolClient.request(method, path, method === "POST" ? { documentId, order: "parallel", expiresAt: inDays(1), recipients: [{ ...signer1, role: "signer" }] } : undefined);
        assert.deepEqual([other.status, other.json().error], [404, "not_found"], `${method} ${path}`);
      }
      assert.equal((await carolClient.get(`/v1/tenants/${tenantB}/signature-requests/${created.id}`)).status, 404);
      assert.deepEqual((await carolClient.get(`/v1/tenants/${tenantB}/signature-requests`)).json().signatureRequests, []);
      const b = await carolClient.post(`/v1/tenants/${tenantB}/signature-requests`, { documentId, order: "parallel", expiresAt: inDays(1), recipients: [{ ...signer1, role: "signer" }] });
      assert.deepEqual([b.status, b.json().error], [404, "not_found"], "A's document does not exist under B");
      const opened = (await stranger.get(link(token))).json();
      assert.deepEqual(Object.keys(opened).sort(), ["company", "expiresAt", "pinRequired"]);
      assert.equal(opened.company, "Signing Co");
      const s = await unlock(token, pin);
      const text = JSON.stringify((await stranger.request("GET", link(token, "/request"), undefined, session(s))).json());
      assert.ok(!text.includes("Other Co") && !text.includes(tenantB) && !text.includes(carol.email));
    });

    it("webhooks: signed request events to a real HTTPS receiver, retried with backoff, the secret shown once and never sent", async () => {
      const hook = (path: string) => `https://127.0.0.1:${t.receiver.port}${path}`;
      const hooks = `/v1/tenants/${tenantA}/signing-webhooks`;
      for (const url of ["http://hooks.example.com/x", "https://10.0.0.8/hook", "https://169.254.169.254/latest", "https://user:pw@hooks.example.com/x"]) {
        const refused = await a.post(hooks, { url });
        assert.deepEqual([refused.status, refused.json().error], [400, "validation_failed"], url);
      }
      const created = await a.post(hooks, { url: hook("/a") });
      assert.equal(created.status, 201, created.text);
      const { id: hookId, secret } = created.json();
      assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      const listed = await a.get(hooks);
      assert.ok(!listed.text.includes(secret), "the secret is shown once only");
      assert.equal((await carolClient.get(hooks)).status, 404);
      assert.equal((await carolClient.request("DELETE", `${hooks}/${hookId}`)).status, 404);

      const since = t.mail.received.length;
      const request = await create({ order: "parallel", send: true, recipients: [{ name: "Hooked", email: "hooked@signers.example", role: "signer" }] });
      const { token, pin } = await linkAndPin("hooked@signers.example", since);
      assert.equal((await signWithSession(token, pin)).json().status, "completed");
      const waitFor = async (condition: () => boolean, what: string) => {
        for (let attempt = 0; attempt < 200 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 25));
        assert.ok(condition(), `timed out waiting for ${what}`);
      };
      const mine = () => t.receiver.hits.filter((hit) => hit.path === "/a" && JSON.parse(hit.body).signatureRequestId === request.id);
      await waitFor(() => mine().length >= 3, "sent, signed and completed events");
      assert.deepEqual(mine().map((hit) => JSON.parse(hit.body).type).sort(), ["signature_request.completed", "signature_request.sent", "signature_request.signed"]);
      for (const hit of mine()) {
        const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hit.headers["x-strongroom-signature"])) ?? assert.fail("no signature header");
        const expected = createHmac("sha256", secret).update(`${match[1]}.${hit.body}`).digest();
        assert.ok(timingSafeEqual(expected, Buffer.from(match[2]!, "hex")), "the HMAC over timestamp and body verifies with the secret");
        assert.ok(!hit.body.includes(secret) && !JSON.stringify(hit.headers).includes(secret), "the secret never travels");
        assert.ok(!hit.body.includes("hooked@signers.example") && !hit.body.includes("Hooked"), "no personal data in the event");
        assert.equal(hit.headers["x-strongroom-event"], JSON.parse(hit.body).type);
      }
      assert.equal((await a.request("DELETE", `${hooks}/${hookId}`)).json().status, "removed");

      const flaky = (await a.post(hooks, { url: hook("/flaky") })).json();
      const gone = (await a.post(hooks, { url: hook("/gone") })).json();
      const cancelled = await create({ order: "parallel", recipients: [{ name: "Nobody", email: "nobody@signers.example", role: "signer" }] });
      assert.equal((await a.post(`${requests()}/${cancelled.id}/cancel`)).status, 200);
      const flakyHits = () => t.receiver.hits.filter((hit) => hit.path === "/flaky");
      await waitFor(() => flakyHits().length === 1 && t.receiver.hits.some((hit) => hit.path === "/gone"), "the first attempts");
      const deliveries = () => t.test.database.db.selectFrom("signing_webhook_deliveries").selectAll().where("webhook_id", "in", [flaky.id, gone.id]).execute();
      let rows = await deliveries();
      const flakyRow = () => rows.find((row) => row.webhook_id === flaky.id)!;
      const settled = () => flakyRow().last_http_status === 503 && rows.find((row) => row.webhook_id === gone.id)!.status === "failed";
      for (let attempt = 0; attempt < 200 && !settled(); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        rows = await deliveries();
      }
      assert.deepEqual([flakyRow().status, flakyRow().attempts, flakyRow().last_http_status], ["pending", 1, 503]);
      const goneRow = rows.find((row) => row.webhook_id === gone.id)!;
      assert.deepEqual([goneRow.status, goneRow.last_http_status], ["failed", 410], "a receiver that says gone is not retried");
      const firstRetryAt = Date.parse(flakyRow().next_attempt_at!);
      assert.equal((await runWebhookDeliveries(t.deps.webhooks!, firstRetryAt - 1000)).retrying, 0, "not before its time");
      assert.equal((await runWebhookDeliveries(t.deps.webhooks!, firstRetryAt + 1)).retrying, 1);
      rows = await deliveries();
      const secondDelay = Date.parse(flakyRow().next_attempt_at!) - (firstRetryAt + 1);
      assert.ok(secondDelay >= 59_000 && secondDelay <= 61_000, `the wait doubles (${secondDelay} ms)`);
      assert.equal((await runWebhookDeliveries(t.deps.webhooks!, Date.parse(flakyRow().next_attempt_at!) + 1)).delivered, 1);
      rows = await deliveries();
      assert.deepEqual([flakyRow().status, flakyRow().attempts], ["delivered", 3]);
      assert.equal(flakyHits().length, 3);
      const bodies = new Set(flakyHits().map((hit) => hit.body));
      assert.equal(bodies.size, 1, "every retry carries the same event");
      const recent = (await a.get(hooks)).json().webhooks.find((row: { id: string }) => row.id === flaky.id).recentDeliveries[0];
      assert.deepEqual([recent.event, recent.status, recent.attempts], ["signature_request.cancelled", "delivered", 3]);
      await a.request("DELETE", `${hooks}/${flaky.id}`);
      await a.request("DELETE", `${hooks}/${gone.id}`);
    });

    it("a link opened again and again keeps a bounded evidence trail, while every request stays on the audit trail", async () => {
      const since = t.mail.received.length;
      const created = await create({ order: "parallel", send: true, recipients: [{ name: "Curious", email: "curious@signers.example", role: "signer" }] });
      const { token } = await linkAndPin("curious@signers.example", since);
      for (let index = 0; index < 25; index++) assert.equal((await stranger.get(link(token))).status, 200);
      const opened = (await a.get(`${requests()}/${created.id}`)).json().evidence.filter((row: { event: string }) => row.event === "opened");
      assert.equal(opened.length, 20);
      const audited = (await a.get(`/v1/tenants/${tenantA}/audit?action=${encodeURIComponent("GET /v1/sign/:token")}&limit=500`)).json().records
        .filter((record: { details: { signatureRequestId?: string } }) => record.details.signatureRequestId === created.id);
      assert.equal(audited.length, 25);
    });

    it("every signer step is on the company's audit trail, with the request but never the token", async () => {
      const records = (await a.get(`/v1/tenants/${tenantA}/audit?action=${encodeURIComponent("POST /v1/sign/:token/pin")}&limit=500`)).json().records;
      assert.ok(records.some((record: { errorCode: string | null }) => record.errorCode === "pin_invalid"));
      assert.ok(records.some((record: { result: string }) => record.result === "ok"));
      for (const record of records) assert.equal(record.object.token, "[redacted]");
      const signed = (await a.get(`/v1/tenants/${tenantA}/audit?action=${encodeURIComponent("POST /v1/sign/:token/sign")}&limit=500`)).json().records;
      assert.ok(signed.some((record: { result: string; details: { step?: string; signatureRequestId?: string } }) => record.result === "ok" && record.details.step === "signed" && record.details.signatureRequestId));
      assert.ok(signed.some((record: { details: { requestStatus?: string } }) => record.details.requestStatus === "completed"), "the signature that completed a request says so");
      const elsewhere = (await carolClient.get(`/v1/tenants/${tenantB}/audit?limit=500`)).json().records;
      assert.ok(!elsewhere.some((record: { action: string }) => record.action.includes("/v1/sign/")));
    });

    it("no link token and no PIN is in a log line or a database row", async () => {
      assert.ok(issuedTokens.length >= 8 && issuedPins.length >= 8);
      const logs = logLines.join("");
      assert.ok(logs.includes("/v1/sign/:token/pin"), "link requests are logged, by their pattern");
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
      for (const secret of [signer1.email, signer2.email, "Please sign by Friday.", "The fee in clause 4 is wrong."]) assert.ok(!dump.includes(secret), "recipients and messages are sealed");
      const blobFiles = (await readdir(join(t.dir, "blobs"), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
      assert.ok(blobFiles.some((entry) => entry.parentPath.includes("/s/")), "final PDFs are in the blob store");
      for (const entry of blobFiles) {
        const bytes = (await readFile(join(entry.parentPath, entry.name))).toString("latin1");
        assert.ok(!bytes.includes("%PDF-") && !bytes.includes("Strongroom signing contract"), "documents and final PDFs are stored only encrypted");
      }
    });
  });
}

// A company sends a PDF to one signer, who signs it through the link and PIN from the mailbox.
async function sendAndSignOnce(t: SigningApp, companyName: string, title: string) {
  const { client, tenantId } = await t.signUp(alice, companyName);
  const docId = (await client.post(`/v1/tenants/${tenantId}/documents`, { title })).json().id;
  await client.request("PUT", `/v1/tenants/${tenantId}/documents/${docId}/content?baseVersion=0`, pdf, { "x-content-type": "application/pdf" });
  const since = t.mail.received.length;
  const created = (await client.post(`/v1/tenants/${tenantId}/signature-requests`, { documentId: docId, order: "parallel", expiresAt: inDays(2), send: true, recipients: [{ ...signer1, role: "signer" }] })).json();
  const mails = await mailsTo(t, signer1.email, since, 2);
  const token = tokenIn(mails.find((mail) => mail.text.includes("#token="))!);
  const pin = pinIn(mails.find((mail) => /PIN \d{6}/.test(mail.text))!.text);
  const stranger = new WebClient(t.base, t.ca);
  const s = (await stranger.post(`/v1/sign/${token}/pin`, { pin })).json().session;
  await stranger.request("POST", `/v1/sign/${token}/consent`, {}, { "x-signing-session": s });
  const fieldId = (await stranger.request("GET", `/v1/sign/${token}/request`, undefined, { "x-signing-session": s })).json().fields[0].id;
  const signed = await stranger.request("POST", `/v1/sign/${token}/sign`, { fields: [{ fieldId, value: "Sam First" }] }, { "x-signing-session": s });
  return { client, tenantId, requestId: created.id as string, signed, stranger };
}

for (const kind of databaseKinds) describe(`a request whose seal fails (${kind})`, { skip: await skipReason(kind) }, () => {
  it("keeps its signatures, records the failure, raises a security event and completes on a later run", async () => {
    let failing = true;
    const t = await startSigningApp(kind, [], (real) => async (input, options) => {
      if (failing) throw new Error("the seal key is unavailable");
      return real(input, options);
    });
    try {
      const { client, tenantId, requestId, signed } = await sendAndSignOnce(t, "Seal Trouble Co", "Sealed later");
      const created = { id: requestId };
      assert.deepEqual([signed.status, signed.json().status], [200, "signed"]);
      const waiting = (await client.get(`/v1/tenants/${tenantId}/signature-requests/${created.id}`)).json();
      assert.deepEqual([waiting.status, waiting.recipients[0].status, waiting.final], ["sent", "signed", null]);
      assert.ok(waiting.evidence.some((row: { event: string }) => row.event === "seal_failed"));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(t.events.some((event) => event.type === "seal_failure" && event.tenantId === tenantId));
      const stillFailing = await runSigningSchedule(t.deps, Date.now() + 3 * day);
      assert.deepEqual([stillFailing.expired, stillFailing.completed], [0, 0], "a request signed by everyone does not expire while it waits for its seal");
      assert.equal((await client.get(`/v1/tenants/${tenantId}/signature-requests/${created.id}`)).json().status, "sent");
      failing = false;
      const run = await runSigningSchedule(t.deps, Date.now() + 3 * day);
      assert.equal(run.completed, 1);
      assert.equal((await client.get(`/v1/tenants/${tenantId}/signature-requests/${created.id}`)).json().status, "completed");
    } finally {
      await t.close();
    }
  });
});

for (const kind of databaseKinds) describe(`a completion interrupted after its seal was recorded (${kind})`, { skip: await skipReason(kind) }, () => {
  it("finishes on a later run with the same seal and the final PDF stored before it", async () => {
    let interrupt = true;
    const logs: string[] = [];
    const t = await startSigningApp(kind, logs, (real) => async (input, options) => {
      const result = await real(input, options);
      // The seal and its final PDF are recorded; the node stops before marking the request completed.
      if (interrupt) throw new Error("the node stopped after the seal was recorded");
      return result;
    });
    try {
      const { client, tenantId, requestId, signed, stranger } = await sendAndSignOnce(t, "Interrupted Seal Co", "Sealed once");
      assert.equal(signed.status, 200);
      const created = { id: requestId };
      assert.equal((await client.get(`/v1/tenants/${tenantId}/signature-requests/${created.id}`)).json().status, "sent", "not completed yet");
      const recorded = await t.test.database.db.selectFrom("seals").select("sha256").where("tenant_id", "=", tenantId).where("request_id", "=", created.id).executeTakeFirstOrThrow();
      interrupt = false;
      const run = await runSigningSchedule(t.deps, Date.now() + 60 * 60_000);
      assert.equal(run.completed, 1, logs.filter((line) => line.includes("seal")).slice(-2).join("\n"));
      const done = (await client.get(`/v1/tenants/${tenantId}/signature-requests/${created.id}`)).json();
      assert.deepEqual([done.status, done.final.sha256], ["completed", recorded.sha256], "completed with the seal recorded the first time");
      const final = await client.get(`/v1/tenants/${tenantId}/signature-requests/${created.id}/final-pdf`);
      assert.equal(createHash("sha256").update(final.bytes).digest("hex"), recorded.sha256);
      assert.equal((await stranger.request("POST", "/v1/verify", final.bytes, { "content-type": "application/pdf" })).json().status, "sealed");
      const seals = await t.test.database.db.selectFrom("seals").select("request_id").where("tenant_id", "=", tenantId).execute();
      assert.equal(seals.length, 1, "sealed once");
    } finally {
      await t.close();
    }
  });
});
