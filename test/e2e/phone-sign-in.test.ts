// New-device codes by SMS (P12): a user verifies a phone with an SMS code through a real HTTPS SMS
// gateway; after that, a sign-in from a new device sends the code by SMS instead of e-mail.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createMessageSender } from "../../src/modules/messages/create-message-sender.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../support/databases.ts";
import { codeIn, startMailServer, tokenIn, type MailServer } from "../support/mail-server.ts";
import { startSmsGateway, type SmsGateway } from "../support/sms-gateway.ts";
import { WebClient } from "../support/web-client.ts";

const person = { email: "pia@phone.example", password: "pia signs in by phone 2026", name: "Pia", companyName: "Phone Co" };
// One gateway for the file: Node's default CA list is fixed for fetch once it has been used.
const sms: SmsGateway = await startSmsGateway();
after(() => sms.close());

const smsCode = (text: string) => /code is (\d{6})/.exec(text)?.[1] ?? assert.fail("no code in the SMS");

for (const kind of databaseKinds) {
  describe(`sign-in codes by SMS (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let dir: string;
    let mail: MailServer;
    let app: FastifyInstance;
    let base: string;
    let ca: Buffer;
    let pia: WebClient;

    before(async () => {
      test = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), "sr-phone-"));
      mail = await startMailServer();
      const certificate = await ensureSelfSignedCertificate(dir);
      ca = await readFile(certificate.certFile);
      const vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      const messages = createMessageSender(
        { email: { kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "s@test.example" }, sms: { kind: "http", url: sms.url, token: sms.token } },
        { db: test.database.db, vault },
      );
      app = await buildApp({
        vault, logger: createLogger({ level: "silent" }), certificate, bodyLimitBytes: 65536, trustedProxies: [], operatorCidrs: [], version: "test",
        identity: createIdentityDeps({ db: test.database.db, vault, messages, publicUrl: "https://localhost" }),
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      base = `https://localhost:${(app.server.address() as { port: number }).port}`;
      let since = mail.received.length;
      await new WebClient(base, ca).post("/v1/auth/signup", person);
      await new WebClient(base, ca).post("/v1/auth/verify-email", { token: tokenIn(await mail.next(person.email, since)) });
      pia = new WebClient(base, ca);
      since = mail.received.length;
      const login = await pia.post("/v1/auth/login", { email: person.email, password: person.password });
      await pia.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(person.email, since)) });
    });

    after(async () => {
      await app?.close();
      await mail?.close();
      await test?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it("a phone is verified with an SMS code; bad numbers and wrong codes are refused", async () => {
      assert.equal((await pia.post("/v1/auth/phone", { phone: "040 123" })).json().error, "validation_failed");
      const started = await pia.post("/v1/auth/phone", { phone: "+358 40 123 4567" });
      assert.equal(started.status, 202, started.text);
      const message = sms.received.at(-1)!;
      assert.equal(message.to, "+358401234567");
      const code = smsCode(message.text);
      const wrong = await pia.post("/v1/auth/phone/verify", { code: code === "111111" ? "222222" : "111111" });
      assert.deepEqual([wrong.status, wrong.json().error], [400, "code_invalid"]);
      assert.equal((await pia.post("/v1/auth/phone/verify", { code })).status, 200);
      assert.equal((await pia.get("/v1/auth/phone")).json().phone, "+358401234567");
    });

    it("a sign-in from a new device then sends its code by SMS, not e-mail", async () => {
      const client = new WebClient(base, ca);
      const mailsBefore = mail.received.length;
      const smsBefore = sms.received.length;
      const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
      assert.equal(login.status, 202);
      assert.equal(login.json().channel, "sms");
      assert.equal(sms.received.length, smsBefore + 1);
      assert.equal(mail.received.filter((m) => /sign-in code/.test(m.text)).length, mail.received.slice(0, mailsBefore).filter((m) => /sign-in code/.test(m.text)).length, "no code by e-mail");
      const verified = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: smsCode(sms.received.at(-1)!.text) });
      assert.equal(verified.status, 200);
    });

    it("the phone number is stored only sealed", async () => {
      const row = await test.database.db.selectFrom("users").select("phone_ciphertext").executeTakeFirstOrThrow();
      assert.ok(!Buffer.from(row.phone_ciphertext!).toString("latin1").includes("358401234567"));
    });
  });
}
