// Search end to end on SQLite and PostgreSQL: titles and page text found by words and prefixes,
// ranking, rights (nothing of a document the caller may not see, not even its id), companies kept
// apart, the index following renames, edits, trash and deletion, rebuilds, no plaintext in the
// database, and a company with tens of thousands of index rows. The index is kept by the document
// routes themselves, so these tests also prove that wiring.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { documentTitleContext, indexDocuments, rebuildSearchIndex } from "../../src/modules/search/search-index.ts";
import { createFileBlobStore } from "../../src/store/blob-store-fs.ts";
import type { BlobStore } from "../../src/store/blob-store.ts";
import { databaseKinds, skipReason } from "../support/databases.ts";
import { inviteAndSignIn, startTestApp, type TestApp } from "../support/signed-in-app.ts";
import { WebClient } from "../support/web-client.ts";

const marker = `zqmarker${randomBytes(6).toString("hex")}`;
const alice = { email: "alice@search.example", password: "alice finds her documents 1", name: "Alice" };
const bob = { email: "bob@search.example", password: "bob sees only what he may 2", name: "Bob" };
const carol = { email: "carol@elsewhere.example", password: "carol runs another company 3", name: "Carol" };

type Hit = { id: string; kind: string; title: string; folderId: string | null; updatedAt: string; access: string };

// Four lower-case letters for a number: fixed length, so one code is never a prefix of another.
function code(n: number): string {
  let out = "";
  for (let i = 0; i < 4; i++, n = Math.floor(n / 26)) out = String.fromCharCode(97 + (n % 26)) + out;
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true, recursive: true })).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

for (const kind of databaseKinds) {
  describe(`search (${kind})`, { skip: await skipReason(kind) }, () => {
    let t: TestApp;
    let blobStore: BlobStore;
    let a: WebClient;
    let tenantA: string;
    let aliceId: string;
    let bobClient: WebClient;
    let bobId: string;
    let carolClient: WebClient;
    let tenantC: string;
    let financeId: string;
    let forecastId: string;
    let policyId: string;
    let archiveId: string;
    let carolDocId: string;
    const db = () => t.test.database.db;

    before(async () => {
      t = await startTestApp(kind, async ({ dir }) => {
        blobStore = createFileBlobStore(join(dir, "blobs"));
        return { documents: { blobStore, maxUploadBytes: 1024 * 1024 } };
      });
      ({ client: a, tenantId: tenantA, userId: aliceId } = await t.signUp(alice, "Search Co"));
      ({ client: bobClient, userId: bobId } = await inviteAndSignIn(t, a, tenantA, bob, "member"));
      ({ client: carolClient, tenantId: tenantC } = await t.signUp(carol, "Elsewhere Co"));
    });

    after(async () => {
      await t?.close();
    });

    const search = (client: WebClient | undefined, tenantId: string, query: string, extra = "") => {
      const searcher = new WebClient(t.base, t.ca);
      for (const [name, value] of client?.cookies ?? []) searcher.cookies.set(name, value);
      return searcher.get(`/v1/tenants/${tenantId}/search?q=${encodeURIComponent(query)}${extra}`);
    };
    const found = async (client: WebClient, tenantId: string, query: string, extra = ""): Promise<Hit[]> => {
      const response = await search(client, tenantId, query, extra);
      assert.equal(response.status, 200, response.text);
      return response.json().results;
    };
    const ids = async (client: WebClient, tenantId: string, query: string) => (await found(client, tenantId, query, "&limit=50")).map((hit) => hit.id);

    async function createDocument(client: WebClient, tenantId: string, title: string, options: { folderId?: string; text?: string } = {}): Promise<string> {
      const created = await client.post(`/v1/tenants/${tenantId}/documents`, { title, ...(options.folderId ? { folderId: options.folderId } : {}), kind: options.text === undefined ? "file" : "page" });
      assert.equal(created.status, 201, created.text);
      const id = created.json().id as string;
      if (options.text === undefined) await upload(client, tenantId, id, 0);
      else await editPage(client, tenantId, id, options.text, 0);
      return id;
    }
    async function upload(client: WebClient, tenantId: string, id: string, baseVersion: number) {
      const uploaded = await client.request("PUT", `/v1/tenants/${tenantId}/documents/${id}/content?baseVersion=${baseVersion}`, randomBytes(100), { "x-content-type": "application/pdf" });
      assert.equal(uploaded.status, 201, uploaded.text);
    }
    async function editPage(client: WebClient, tenantId: string, id: string, text: string, baseVersion: number) {
      const edited = await client.request("PUT", `/v1/tenants/${tenantId}/pages/${id}`, { text, baseVersion });
      assert.equal(edited.status, 200, edited.text);
    }
    async function rename(client: WebClient, tenantId: string, id: string, title: string) {
      const renamed = await client.request("PATCH", `/v1/tenants/${tenantId}/documents/${id}`, { title });
      assert.equal(renamed.status, 200, renamed.text);
    }
    const grant = async (resourceType: "folder" | "document", resourceId: string, principalId: string, permission: string | null) => {
      const granted = await a.request("PUT", `/v1/tenants/${tenantA}/grants`, { resourceType, resourceId, principalType: "user", principalId, permission });
      assert.equal(granted.status, 200, granted.text);
    };

    it("finds titles and page text by whole words and by prefixes, whatever the case and accents", async () => {
      financeId = (await a.post(`/v1/tenants/${tenantA}/folders`, { name: "Finance" })).json().id;
      forecastId = await createDocument(a, tenantA, "Quarterly Budget Forecast", { folderId: financeId });
      policyId = await createDocument(a, tenantA, "Travel policy", { folderId: financeId, text: `# Travel\n\nEmployees may book **economy** flights. The xylophonist's ${marker} rule: receipts within 30 days.` });
      archiveId = await createDocument(a, tenantA, "Budget archive (Résumé)");

      assert.deepEqual(new Set(await ids(a, tenantA, "budget")), new Set([forecastId, archiveId]));
      assert.deepEqual(new Set(await ids(a, tenantA, "BUDG")), new Set([forecastId, archiveId]));
      assert.deepEqual(await ids(a, tenantA, "forecast quarterly"), [forecastId], "every word must match");
      assert.deepEqual(await ids(a, tenantA, "budget travel"), []);
      assert.deepEqual(await ids(a, tenantA, "xylophonist"), [policyId], "page text is searched");
      assert.deepEqual(await ids(a, tenantA, "xylo receipts"), [policyId]);
      assert.deepEqual(await ids(a, tenantA, marker), [policyId]);
      assert.deepEqual(await ids(a, tenantA, "resume"), [archiveId]);
      assert.deepEqual(await ids(a, tenantA, "days 30"), [policyId], "two-character words are whole words");
      assert.deepEqual(await ids(a, tenantA, "da"), [], "prefixes start at three characters");
      const [hit] = await found(a, tenantA, "forecast");
      assert.deepEqual([hit!.title, hit!.kind, hit!.folderId, hit!.access], ["Quarterly Budget Forecast", "file", financeId, "manage"]);
    });

    it("ranks a whole-word match above a prefix match, then the most recently changed first", async () => {
      const plan = await createDocument(a, tenantA, "Plan");
      const planning = await createDocument(a, tenantA, "Planning");
      const olderMemo = await createDocument(a, tenantA, "Memo one");
      const newerMemo = await createDocument(a, tenantA, "Memo two");
      assert.deepEqual(await ids(a, tenantA, "plan"), [plan, planning]);
      assert.deepEqual(await ids(a, tenantA, "memo"), [newerMemo, olderMemo]);
      const limited = await search(a, tenantA, "memo", "&limit=1");
      assert.deepEqual(limited.json().results.map((hit: Hit) => hit.id), [newerMemo]);
      await upload(a, tenantA, olderMemo, 1);
      assert.deepEqual(await ids(a, tenantA, "memo"), [olderMemo, newerMemo], "a new version makes a document the most recent");
    });

    it("a member without rights never sees a document in results, not even its id; a view grant on its folder shows it", async () => {
      for (const query of ["budget", "xylophonist", "forecast", "plan"]) {
        const response = await search(bobClient, tenantA, query);
        assert.deepEqual([response.status, response.json().results], [200, []], query);
        for (const secret of [forecastId, policyId, archiveId, "Quarterly", "Travel"]) assert.ok(!response.text.includes(secret), `${query}: ${secret}`);
      }
      await grant("folder", financeId, bobId, "view");
      assert.deepEqual(new Set(await ids(bobClient, tenantA, "budget")), new Set([forecastId]), "the folder's documents, not the archive at the root");
      assert.deepEqual(await ids(bobClient, tenantA, "xylophonist"), [policyId]);
      assert.equal((await found(bobClient, tenantA, "forecast"))[0]!.access, "view");
      await grant("document", archiveId, bobId, "view");
      assert.deepEqual(new Set(await ids(bobClient, tenantA, "budget")), new Set([forecastId, archiveId]));
      await grant("folder", financeId, bobId, null);
      await grant("document", archiveId, bobId, null);
      assert.deepEqual(await ids(bobClient, tenantA, "budget"), [], "a removed grant takes effect at once");
    });

    it("another company's documents never appear, and its words hash differently", async () => {
      const created = await carolClient.post(`/v1/tenants/${tenantC}/documents`, { title: "Budget of Elsewhere" });
      carolDocId = created.json().id;
      await carolClient.request("PUT", `/v1/tenants/${tenantC}/documents/${carolDocId}/content?baseVersion=0`, randomBytes(10), { "x-content-type": "application/pdf" });
      assert.deepEqual(await ids(carolClient, tenantC, "budget"), [carolDocId]);
      assert.ok(!(await ids(a, tenantA, "budget")).includes(carolDocId));
      assert.deepEqual(await ids(a, tenantA, "elsewhere"), []);
      const foreign = await search(carolClient, tenantA, "budget");
      assert.deepEqual([foreign.status, foreign.json().error], [404, "not_found"]);
      const hashes = async (tenantId: string) => new Set((await db().selectFrom("search_tokens").select("token_hash").where("tenant_id", "=", tenantId).execute()).map((row) => row.token_hash));
      const [ofA, ofC] = [await hashes(tenantA), await hashes(tenantC)];
      assert.ok(ofC.size > 0);
      for (const hash of ofC) assert.ok(!ofA.has(hash), "the same word gives a different hash in another company");
    });

    it("refuses requests without a session, and queries without words, too long or with too many words", async () => {
      const anonymous = await search(undefined, tenantA, "budget");
      assert.deepEqual([anonymous.status, anonymous.json().error], [401, "session_required"]);
      const refused = async (query: string | undefined, extra = "") => {
        const response = query === undefined
          ? await new WebClient(t.base, t.ca, { cookie: [...a.cookies].map(([name, value]) => `${name}=${value}`).join("; ") }).get(`/v1/tenants/${tenantA}/search`)
          : await search(a, tenantA, query, extra);
        assert.deepEqual([response.status, response.json().error], [400, "validation_failed"], `${query} ${extra}`);
      };
      await refused(undefined);
      await refused("");
      await refused("a . !");
      await refused("x".repeat(201));
      await refused("one two three four five six seven eight nine ten eleven");
      await refused("budget", "&limit=0");
      await refused("budget", "&limit=51");
      await refused("budget", "&limit=ten");
      await refused("budget", "&other=1");
      assert.equal((await search(a, tenantA, "one two three four five six seven eight nine budget")).status, 200);
    });

    it("follows renames, page edits, the trash and deletion for good", async () => {
      await rename(a, tenantA, forecastId, "Annual outlook");
      assert.deepEqual(await ids(a, tenantA, "quarterly"), []);
      assert.deepEqual(await ids(a, tenantA, "annual outl"), [forecastId]);
      assert.deepEqual(await ids(a, tenantA, "xylophonist"), [policyId], "a rename of another document leaves page text alone");

      await editPage(a, tenantA, policyId, "Rail travel preferred; zeppelins forbidden.", 1);
      assert.deepEqual(await ids(a, tenantA, "xylophonist"), []);
      assert.deepEqual(await ids(a, tenantA, "zeppelin"), [policyId]);
      await rename(a, tenantA, policyId, "Mobility policy");
      assert.deepEqual(await ids(a, tenantA, "zeppelins mobility"), [policyId], "a rename keeps the page text");
      const restored = await a.post(`/v1/tenants/${tenantA}/documents/${policyId}/versions/1/restore`, { baseVersion: 2 });
      assert.equal(restored.status, 201, restored.text);
      assert.deepEqual([await ids(a, tenantA, "xylophonist"), await ids(a, tenantA, "zeppelins")], [[policyId], []], "a restored version's text");

      assert.equal((await a.request("DELETE", `/v1/tenants/${tenantA}/documents/${archiveId}`)).status, 200);
      assert.deepEqual(await ids(a, tenantA, "archive"), [], "trashed documents are not found");
      assert.equal((await a.post(`/v1/tenants/${tenantA}/trash/${archiveId}/restore`)).status, 200);
      assert.deepEqual(await ids(a, tenantA, "archive"), [archiveId], "restored documents are found again");
      await a.request("DELETE", `/v1/tenants/${tenantA}/documents/${archiveId}`);
      assert.equal((await a.request("DELETE", `/v1/tenants/${tenantA}/trash`)).json().deleted, 1);
      const left = await db().selectFrom("search_tokens").select("token_hash").where("tenant_id", "=", tenantA).where("document_id", "=", archiveId).execute();
      assert.equal(left.length, 0, "a document deleted for good leaves no index rows");
    });

    it("rebuilds a company's index from its stored titles and page text, leaving other companies alone", async () => {
      const queries = ["annual", "xylophonist", "mobility", "plan", "memo", "budget"];
      const before = await Promise.all(queries.map((query) => ids(a, tenantA, query)));
      assert.deepEqual(before[1], [policyId], "page text from the blob store");
      await db().deleteFrom("search_tokens").where("tenant_id", "=", tenantA).execute();
      assert.deepEqual(await ids(a, tenantA, "xylophonist"), []);
      const rebuilt = await rebuildSearchIndex({ db: db(), vault: t.vault, blobStore }, tenantA);
      const documents = await db().selectFrom("documents").select("id").where("tenant_id", "=", tenantA).execute();
      assert.deepEqual([rebuilt.documents, rebuilt.tokens > 50], [documents.length, true], JSON.stringify(rebuilt));
      assert.deepEqual(await Promise.all(queries.map((query) => ids(a, tenantA, query))), before);
      assert.deepEqual(await ids(carolClient, tenantC, "budget"), [carolDocId]);
    });

    it("keeps no word in plaintext: not in the index, not anywhere in the database", async () => {
      const page = await createDocument(a, tenantA, `Notes ${marker}`, { text: `More about ${marker} and ${marker}s.` });
      assert.deepEqual(new Set(await ids(a, tenantA, marker)), new Set([page, ...(await ids(a, tenantA, "receipts"))]));
      const rows = await db().selectFrom("search_tokens").selectAll().where("tenant_id", "=", tenantA).where("document_id", "=", page).execute();
      assert.ok(rows.length > 20);
      for (const row of rows) assert.match(row.token_hash, /^[A-Za-z0-9_-]{22}$/);
      const stored = kind === "sqlite"
        ? (await Promise.all((await filesUnder(t.test.dataDir!)).map((file) => readFile(file)))).map((bytes) => bytes.toString("latin1")).join("")
        : (await promisify(execFile)("pg_dump", ["--data-only", (t.test.config as { url: string }).url], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      assert.ok(stored.includes(rows[0]!.token_hash), "the dump holds the index");
      for (const word of [marker, marker.slice(0, 10), "zeppelin", "mobility", "xylophonist"]) assert.ok(!stored.includes(word), `"${word}" is in the database`);
    });

    it("answers correctly over tens of thousands of index rows, with nested folder rights and many grants", async () => {
      // Ten folders nested 0 ⊃ 1 ⊃ … ⊃ 9; document n lives in folder n % 10 and was changed n seconds
      // after the start, except that the newest 300 were all changed at the same moment (an import).
      const folders: string[] = [];
      for (let depth = 0; depth < 10; depth++) {
        const created = await a.post(`/v1/tenants/${tenantA}/folders`, { name: `Level ${depth}`, ...(depth ? { parentId: folders[depth - 1] } : {}) });
        folders.push(created.json().id);
      }
      const count = 1000;
      const start = Date.parse("2030-01-01T00:00:00.000Z");
      const documentIds = Array.from({ length: count }, () => randomBytes(16).toString("hex"));
      const titleOf = (n: number) => `Ledger ${code(n)} grp${code(n % 50)} shard${code(n % 4)}`;
      const rows = [];
      for (let n = 0; n < count; n++) {
        const at = new Date(start + Math.min(n, 700) * 1000).toISOString();
        rows.push({
          tenant_id: tenantA, id: documentIds[n]!, folder_id: folders[n % 10]!, kind: "file" as const, current_version: 1, created_by: aliceId, created_at: at, updated_at: at, deleted_at: null,
          title_ciphertext: await t.vault.data.sealString(documentTitleContext(tenantA, documentIds[n]!), titleOf(n)),
        });
      }
      for (let i = 0; i < count; i += 200) await db().insertInto("documents").values(rows.slice(i, i + 200)).execute();
      let indexed = 0;
      for (let i = 0; i < count; i += 250) {
        indexed += await indexDocuments(db(), t.vault, tenantA, documentIds.slice(i, i + 250).map((documentId, j) => ({ documentId, title: titleOf(i + j) })));
      }
      const total = await db().selectFrom("search_tokens").select((eb) => eb.fn.countAll<number | string>().as("rows")).where("tenant_id", "=", tenantA).executeTakeFirstOrThrow();
      assert.ok(indexed >= 20_000 && Number(total.rows) >= 20_000, `${indexed} rows indexed`);

      // Newest first; among equally recent ones, the greater id first.
      const order = Array.from({ length: count }, (_, n) => n)
        .sort((x, y) => Math.min(y, 700) - Math.min(x, 700) || (documentIds[y]! > documentIds[x]! ? 1 : -1));
      const newestFirst = (keep: (n: number) => boolean, limit = 50) => order.filter(keep).slice(0, limit).map((n) => documentIds[n]);
      assert.deepEqual(await ids(a, tenantA, `grp${code(7)}`), newestFirst((n) => n % 50 === 7));
      assert.deepEqual(await ids(a, tenantA, `grp${code(7)} shard${code(3)}`), newestFirst((n) => n % 50 === 7 && n % 4 === 3));
      assert.deepEqual(await ids(a, tenantA, "shard"), newestFirst(() => true), "a prefix matching every document: the 50 newest");
      assert.deepEqual(await ids(a, tenantA, `ledger ${code(123)}`), [documentIds[123]]);
      assert.deepEqual((await search(a, tenantA, "shard", "&limit=5")).json().results.map((hit: Hit) => hit.id), newestFirst(() => true, 5));

      // Bob may view folder 5, so he sees folders 5 to 9 (the documents whose n % 10 >= 5), and nothing else.
      const bobSees = (n: number) => n % 10 >= 5;
      const bobExpectations = async () => {
        assert.deepEqual(await ids(bobClient, tenantA, `grp${code(3)}`), [], "all in folder 3");
        assert.deepEqual(await ids(bobClient, tenantA, `grp${code(7)}`), newestFirst((n) => n % 50 === 7));
        assert.deepEqual(await ids(bobClient, tenantA, "shard"), newestFirst(bobSees));
        assert.deepEqual(await ids(bobClient, tenantA, `shard${code(2)}`), newestFirst((n) => bobSees(n) && n % 4 === 2));
      };
      await grant("folder", folders[5]!, bobId, "view");
      await bobExpectations();
      // With thousands of grants the database no longer narrows by them; each candidate is checked instead.
      const now = new Date().toISOString();
      const manyGrants = Array.from({ length: 2100 }, () => ({
        tenant_id: tenantA, resource_type: "document" as const, resource_id: randomBytes(16).toString("hex"), principal_type: "user" as const,
        principal_id: bobId, permission: "view" as const, created_by: aliceId, created_at: now,
      }));
      for (let i = 0; i < manyGrants.length; i += 300) await db().insertInto("grants").values(manyGrants.slice(i, i + 300)).execute();
      await bobExpectations();
      await db().deleteFrom("grants").where("tenant_id", "=", tenantA).where("principal_id", "=", bobId).where("resource_type", "=", "document").execute();
    });
  });
}
