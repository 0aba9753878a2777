// Proves that loading many folders' levels at once gives exactly folderLevel's answers, on random
// trees with grants, a chain deeper than the depth limit, folders whose parent is gone, and every kind
// of caller (blanket, member, viewer), on SQLite and PostgreSQL.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../../test/support/databases.ts";
import type { Permission } from "../../store/schema.ts";
import { folderLevel, type DocumentRights, type Level } from "../documents/document-access.ts";
import { loadFolderLevels } from "./folder-levels.ts";

const tenantId = "tenant-levels";
const permissions: Permission[] = ["view", "edit", "manage"];

for (const kind of databaseKinds) {
  describe(`folder levels in bulk (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    const ids: string[] = [];
    before(async () => {
      test = await openTestDatabase(kind);
      const rows = [];
      // A random forest of 300 folders; then a chain of 70 below one of them; then 5 orphans.
      for (let i = 0; i < 300; i++) {
        const parent = i > 0 && randomInt(4) > 0 ? ids[randomInt(ids.length)]! : null;
        ids.push(`f${i}`);
        rows.push({ id: `f${i}`, parent_id: parent });
      }
      for (let i = 0; i < 70; i++) {
        ids.push(`deep${i}`);
        rows.push({ id: `deep${i}`, parent_id: i === 0 ? "f0" : `deep${i - 1}` });
      }
      for (let i = 0; i < 5; i++) {
        ids.push(`orphan${i}`);
        rows.push({ id: `orphan${i}`, parent_id: i === 0 ? "gone" : `orphan${i - 1}` });
      }
      await test.database.db.insertInto("folders").values(rows.map((row) => ({
        tenant_id: tenantId, ...row, name_ciphertext: Buffer.from([0]), created_by: "u", created_at: "2025-01-01T00:00:00.000Z", deleted_at: null,
      }))).execute();
    });
    after(() => test.cleanup());

    const randomGrants = () => {
      const granted = new Map<string, Level>();
      for (let i = 0; i < 40; i++) granted.set(`folder:${ids[randomInt(ids.length)]}`, permissions[randomInt(3)]!);
      granted.set("folder:f0", "view");
      granted.set("folder:orphan0", "manage");
      return granted;
    };
    // Made when a test runs: the folders exist only then.
    const callers: [string, () => DocumentRights][] = [
      ["blanket", () => ({ blanket: "manage", ceiling: "manage", granted: new Map() })],
      ["read-only key", () => ({ blanket: "view", ceiling: "view", granted: new Map() })],
      ["member", () => ({ blanket: "none", ceiling: "manage", granted: randomGrants() })],
      ["viewer", () => ({ blanket: "none", ceiling: "view", granted: randomGrants() })],
      ["member without grants", () => ({ blanket: "none", ceiling: "manage", granted: new Map() })],
      // deep5 is 64 generations above deep69 (beyond the depth limit) and 63 above deep68 (within it).
      ["member with a grant at the depth limit", () => ({ blanket: "none", ceiling: "manage", granted: new Map([["folder:deep5", "edit"]]) })],
    ];

    for (const [name, make] of callers) {
      it(`gives folderLevel's answer for every folder (${name})`, async () => {
        const rights = make();
        const asked = [...ids, null, "no-such-folder"];
        const bulk = await loadFolderLevels(test.database.db, tenantId, rights, asked);
        for (const folderId of asked) {
          assert.equal(bulk.get(folderId), await folderLevel(test.database.db, tenantId, rights, folderId), `${name}: ${folderId}`);
        }
        assert.equal(bulk.get("orphan3"), "none", "a folder under a missing one is invisible");
        if (name.includes("depth limit")) assert.deepEqual([bulk.get("deep68"), bulk.get("deep69")], ["edit", "none"]);
        if (rights.granted.size > 0) assert.ok([...bulk.values()].some((level) => level !== "none") && [...bulk.values()].includes("none"), "the trees mix levels");
      });
    }

    it("adds to what is known without asking again", async () => {
      const rights = callers[2]![1]();
      const known = await loadFolderLevels(test.database.db, tenantId, rights, ["f1"]);
      known.set("f2", "manage");
      await loadFolderLevels(test.database.db, tenantId, rights, ["f2", "f3"], known);
      assert.equal(known.get("f2"), "manage");
      assert.ok(known.has("f3"));
    });
  });
}
