import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signUpCompanyOwner } from "../../../test/support/company-owner.ts";
import { databaseKinds, openTestDatabase, skipReason, unsealedVault, type TestDatabase } from "../../../test/support/databases.ts";
import type { Vault } from "../../vault/vault.ts";
import { authenticateApiKey, createApiKey, revokeApiKey } from "./api-keys.ts";

const basic = (credential: string) => `Basic ${Buffer.from(credential).toString("base64")}`;

for (const kind of databaseKinds) {
  describe(`API-key checks on a connection (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let tenantId: string;
    let userId: string;
    const check = async (header: string, connection: object) => authenticateApiKey(test.database.db, vault, header, "127.0.0.1", connection);
    const refused = { code: "api_key_invalid" };
    const newKey = (scopes: ("read" | "admin")[] = ["read"], expiresAt: string | null = null) =>
      createApiKey(test.database.db, vault, { tenantId, createdBy: userId, name: "test key", scopes, expiresAt });

    before(async () => {
      test = await openTestDatabase(kind);
      ({ vault } = await unsealedVault(test.database));
      ({ tenantId, userId } = await signUpCompanyOwner(test, vault, "kim@keys.example"));
    });
    after(() => test?.cleanup());

    it("a key proven on a connection still refuses a wrong secret for the same id there, and accepts the right one after", async () => {
      const { id, key } = await newKey();
      const connection = {};
      assert.equal((await check(basic(key), connection)).tenantId, tenantId);
      assert.equal((await check(basic(key), connection)).keyId, id, "the same header again");
      await assert.rejects(check(basic(`${id}:${"A".repeat(43)}`), connection), refused);
      await assert.rejects(check(basic(`${id}:`), connection), refused);
      await assert.rejects(check(basic(`${key}x`), connection), refused);
      assert.equal((await check(basic(key), connection)).keyId, id);
      await assert.rejects(check(basic(`${id}:${"A".repeat(43)}`), {}), refused, "on a fresh connection too");
    });

    it("two keys on one connection (a proxy's) are each checked in full", async () => {
      const first = await newKey(["read"]);
      const second = await newKey(["admin"]);
      const connection = {};
      assert.deepEqual((await check(basic(first.key), connection)).scopes, ["read"]);
      assert.deepEqual((await check(basic(second.key), connection)).scopes, ["admin"]);
      assert.deepEqual((await check(basic(first.key), connection)).scopes, ["read"]);
      await assert.rejects(check(basic(`${second.id}:${first.key.split(":")[1]}`), connection), refused, "one key's secret under the other's id");
    });

    it("a revoked key fails at once on the connection where it was proven", async () => {
      const { id, key } = await newKey();
      const connection = {};
      await check(basic(key), connection);
      await revokeApiKey(test.database.db, tenantId, id);
      await assert.rejects(check(basic(key), connection), refused);
    });

    it("a key that expires fails on the connection where it was proven", async () => {
      const { key } = await newKey(["read"], new Date(Date.now() + 1_000).toISOString());
      const connection = {};
      await check(basic(key), connection);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await assert.rejects(check(basic(key), connection), refused);
    });

    it("refuses malformed, unknown and oversized credentials", async () => {
      const { key } = await newKey();
      for (const header of ["Basic !!!", basic("no-colon"), basic(":secret"), basic(`srk_${"0".repeat(24)}:${"A".repeat(43)}`), basic(`${key}${"A".repeat(600)}`), `Basic ${"A".repeat(600)}`]) {
        await assert.rejects(check(header, {}), refused, header.slice(0, 40));
      }
    });
  });
}
