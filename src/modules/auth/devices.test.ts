import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signUpCompanyOwner } from "../../../test/support/company-owner.ts";
import { databaseKinds, openTestDatabase, skipReason, unsealedVault, type TestDatabase } from "../../../test/support/databases.ts";
import type { Vault } from "../../vault/vault.ts";
import { createDevices, deviceCookieValue } from "./devices.ts";

for (const kind of databaseKinds) {
  describe(`known devices (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let userId: string;
    const lastSeen = async (id: string) => (await test.database.db.selectFrom("devices").select("last_seen_at").where("id", "=", id).executeTakeFirstOrThrow()).last_seen_at;

    before(async () => {
      test = await openTestDatabase(kind);
      ({ vault } = await unsealedVault(test.database));
      ({ userId } = await signUpCompanyOwner(test, vault, "dee@devices.example"));
    });
    after(() => test?.cleanup());

    it("recognises a signed device cookie and records its last sign-in at most once a minute", async () => {
      const devices = createDevices(test.database.db, vault);
      const device = await devices.register(userId, "test browser");
      const cookie = deviceCookieValue(vault, device.id);
      const twoMinutesAgo = new Date(Date.now() - 120_000).toISOString();
      await test.database.db.updateTable("devices").set({ last_seen_at: twoMinutesAgo }).where("id", "=", device.id).execute();
      assert.equal((await devices.recognise(userId, cookie))?.id, device.id);
      const first = await lastSeen(device.id);
      assert.ok(first > twoMinutesAgo, "a sign-in after a minute is recorded");
      await devices.recognise(userId, cookie);
      assert.equal(await lastSeen(device.id), first, "a second sign-in within the minute writes nothing");
    });

    it("does not recognise a forged, foreign or revoked device", async () => {
      const devices = createDevices(test.database.db, vault);
      const device = await devices.register(userId, "test browser");
      assert.equal(await devices.recognise(userId, `${device.id}.${"A".repeat(43)}`), undefined);
      assert.equal(await devices.recognise("another-user", deviceCookieValue(vault, device.id)), undefined);
      await test.database.db.updateTable("devices").set({ revoked_at: new Date().toISOString() }).where("id", "=", device.id).execute();
      assert.equal(await devices.recognise(userId, deviceCookieValue(vault, device.id)), undefined);
    });
  });
}
