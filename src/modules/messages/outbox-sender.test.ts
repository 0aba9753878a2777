import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../../test/support/databases.ts";
import { createVault, type Vault } from "../../vault/vault.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { createMessageSender } from "./create-message-sender.ts";
import type { Message } from "./message.ts";
import { messagesConfigSchema } from "./messages-config.ts";
import { createOutboxSender, listOutbox, type OutboxDependencies } from "./outbox-sender.ts";

const marker = `MARKER-${randomBytes(8).toString("hex")}`;
const recipient = `bob-${randomBytes(4).toString("hex")}@example.test`;

const email: Message = {
  channel: "email",
  to: recipient,
  subject: "Reset your password",
  text: `Open https://strongroom.test/reset#${marker} to choose a new password.`,
  purpose: "password_reset",
};
const sms: Message = { channel: "sms", to: "+41791234567", subject: "", text: `Your code is 551204 ${marker}`, purpose: "device_code" };

for (const kind of databaseKinds) {
  describe(`dev outbox (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let deps: OutboxDependencies;

    before(async () => {
      test = await openTestDatabase(kind);
      vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      deps = { db: test.database.db, vault };
    });
    after(() => test.cleanup());
    beforeEach(() => test.database.db.deleteFrom("message_outbox").execute());

    it("keeps messages sealed and gives them back, newest first", async () => {
      const outbox = createOutboxSender(deps);
      await outbox.send(email);
      await outbox.send(sms);
      const entries = await listOutbox(deps, 10);
      assert.deepEqual(entries.map((entry) => entry.message), [sms, email]);
      assert.ok(entries.every((entry) => !Number.isNaN(Date.parse(entry.createdAt))));
      assert.deepEqual((await listOutbox(deps, 1)).map((entry) => entry.message.purpose), ["device_code"]);
    });

    it("stores no plaintext of the text or the recipient", async () => {
      await createOutboxSender(deps).send(email);
      const rows = await test.database.db.selectFrom("message_outbox").selectAll().execute();
      assert.equal(rows.length, 1);
      const rowBytes = Buffer.concat(Object.values(rows[0]!).map((value) => (value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(String(value)))));
      assert.equal(rowBytes.includes("password_reset"), true, "the search sees what is stored in clear");
      assert.equal(rowBytes.includes(marker), false);
      assert.equal(rowBytes.includes(recipient), false);
      assert.deepEqual([rows[0]!.channel, rows[0]!.purpose], ["email", "password_reset"]);
      if (test.dataDir) {
        for (const file of await readdir(test.dataDir)) {
          assert.equal((await readFile(join(test.dataDir, file))).includes(marker), false, `${file} holds the marker`);
        }
      }
    });

    it("refuses to read or write while the vault is sealed", async () => {
      await createOutboxSender(deps).send(email);
      const sealed = { db: test.database.db, vault: createVault(createVaultRepository(test.database.db)) };
      await assert.rejects(listOutbox(sealed, 10), { code: "sealed" });
      await assert.rejects(createOutboxSender(sealed).send(sms), { code: "sealed" });
    });

    it("does not open a ciphertext moved to another message", async () => {
      const outbox = createOutboxSender(deps);
      await outbox.send(email);
      await outbox.send(sms);
      const [first, second] = await test.database.db.selectFrom("message_outbox").select(["id", "message_ciphertext"]).execute();
      await test.database.db.updateTable("message_outbox").set({ message_ciphertext: second!.message_ciphertext }).where("id", "=", first!.id).execute();
      await assert.rejects(listOutbox(deps, 10), { code: "decrypt_failed" });
    });

    it("keeps only the newest messages", async () => {
      const outbox = createOutboxSender(deps, { capacity: 3 });
      for (let index = 1; index <= 5; index++) await outbox.send({ ...email, subject: `message ${index}` });
      const entries = await listOutbox(deps, 10);
      assert.deepEqual(entries.map((entry) => entry.message.subject), ["message 5", "message 4", "message 3"]);
      const count = await test.database.db.selectFrom("message_outbox").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 3);
    });

    it("refuses a limit that is not a positive whole number", async () => {
      await assert.rejects(listOutbox(deps, 0), { code: "bad_request" });
      await assert.rejects(listOutbox(deps, 1.5), { code: "bad_request" });
    });

    it("routes by channel to the providers chosen from configuration", async () => {
      const outboxOnly = createMessageSender(messagesConfigSchema.parse({}), deps);
      await outboxOnly.send(email);
      await outboxOnly.send(sms);
      assert.deepEqual((await listOutbox(deps, 10)).map((entry) => entry.message.channel), ["sms", "email"]);

      // E-mail by SMTP (to a relay that is not there), SMS still to the outbox.
      const mixed = createMessageSender(messagesConfigSchema.parse({ email: { kind: "smtp", host: "127.0.0.1", port: 1, from: "no-reply@strongroom.test" } }), deps);
      await assert.rejects(mixed.send(email), { code: "delivery_failed", message: /SMTP relay 127\.0\.0\.1:1/ });
      await mixed.send({ ...sms, purpose: "new_sign_in" });
      assert.deepEqual((await listOutbox(deps, 10)).map((entry) => entry.message.purpose), ["new_sign_in", "device_code", "password_reset"]);
    });
  });
}
