// Finding the documents a caller may see by the words of their titles and page text. The query's
// words are hashed like the index (search-index.ts) and looked up by equality. Every query word must
// match; documents holding every word whole come first, then those where some word only starts a
// word; within each, the most recently changed first.
//
// The work is bounded whatever a planner estimates: the rarest token is read newest first along the
// primary key, a slice of its rows at a time (growing from a page of results to a few thousand rows);
// within a slice each further token is one seek (a document's rows share one recency) and the
// database keeps only documents the caller's grants reach. document-access.ts's rules then decide for
// each candidate, and titles are opened only for the results.
import type { Kysely, QueryCreator } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { atLeast, documentLevelWithin, type DocumentRights, type Level } from "../documents/document-access.ts";
import { loadFolderLevels, type FolderLevels } from "./folder-levels.ts";
import { documentTitleContext, searchTokenHash } from "./search-index.ts";
import { queryTermsOf } from "./search-terms.ts";

export const maxSearchResults = 50;
// Past this many grants the database is not asked to narrow by them (the query would grow too
// large); each candidate is then checked here.
const maxGrantsForNarrowing = 2000;
const tokenCountCap = 2000; // enough to tell a rare token from a common one, cheaply
const largestSlice = 5000; // rows of the driving token per query
const maxRowsRead = 250_000; // of the driving token, per tier: bounds the work of one search

export type SearchHit = { id: string; kind: "file" | "page"; title: string; folderId: string | null; updatedAt: string; access: Level };

type Db = Kysely<DatabaseSchema>;
type WithVisibleFolders = DatabaseSchema & { visible_folders: { id: string } };
type Scope =
  | { kind: "everything" }
  | { kind: "granted"; folderIds: string[]; documentIds: string[] }
  | { kind: "check_each" };

function scopeOf(rights: DocumentRights): Scope | undefined {
  if (atLeast(rights.blanket, "view")) return { kind: "everything" };
  const folderIds: string[] = [];
  const documentIds: string[] = [];
  for (const [key, level] of rights.granted) {
    if (!atLeast(level, "view")) continue;
    if (key.startsWith("folder:")) folderIds.push(key.slice("folder:".length));
    else if (key.startsWith("document:")) documentIds.push(key.slice("document:".length));
  }
  if (folderIds.length + documentIds.length === 0) return undefined;
  if (folderIds.length + documentIds.length > maxGrantsForNarrowing) return { kind: "check_each" };
  return { kind: "granted", folderIds, documentIds };
}

export async function searchDocuments(deps: { db: Db; vault: Vault }, tenantId: string, rights: DocumentRights, query: string, limit: number): Promise<SearchHit[]> {
  const { db, vault } = deps;
  const terms = queryTermsOf(query);
  const wanted = Math.max(1, Math.min(limit, maxSearchResults));
  const scope = scopeOf(rights);
  if (!scope) return [];
  const hash = (token: string) => searchTokenHash(vault, tenantId, token);
  const wholeWords = [...new Set(terms.map((term) => hash(term.exact)))];
  const wordsOrPrefixes = [...new Set(terms.map((term) => hash(term.required)))];
  const tiers = wholeWords.every((token) => wordsOrPrefixes.includes(token)) ? [wordsOrPrefixes] : [wholeWords, wordsOrPrefixes];

  const rowsOf = new Map<string, number>();
  for (const token of new Set(tiers.flat())) rowsOf.set(token, await countRows(db, tenantId, token));

  const creator: QueryCreator<WithVisibleFolders> = scope.kind === "granted" && scope.folderIds.length > 0
    // The granted folders and everything below them: a superset of what the caller may see there.
    ? db.withRecursive("visible_folders(id)", (qc) => qc.selectFrom("folders").select("id").where("tenant_id", "=", tenantId).where("id", "in", scope.folderIds)
      .union(qc.selectFrom("folders").innerJoin("visible_folders", "visible_folders.id", "folders.parent_id").select("folders.id").where("folders.tenant_id", "=", tenantId)))
    : (db as unknown as QueryCreator<WithVisibleFolders>);

  // The documents holding every token whose driving row's recency lies in [from, to], newest first.
  const candidates = (tokens: string[], from: number | undefined, to: number | undefined) => {
    const [driver, ...others] = tokens;
    let found = creator.selectFrom("search_tokens as st")
      .innerJoin("documents as d", (join) => join.onRef("d.tenant_id", "=", "st.tenant_id").onRef("d.id", "=", "st.document_id"))
      .select(["d.id", "d.kind", "d.folder_id", "d.updated_at"])
      .where("st.tenant_id", "=", tenantId).where("st.token_hash", "=", driver!)
      .where("d.deleted_at", "is", null).where("d.current_version", ">", 0);
    if (from !== undefined) found = found.where("st.recency", ">=", from);
    if (to !== undefined) found = found.where("st.recency", "<=", to);
    for (const other of others) {
      found = found.where((eb) => eb.exists(eb.selectFrom("search_tokens as o").select("o.document_id").where("o.tenant_id", "=", tenantId)
        .where("o.token_hash", "=", other).whereRef("o.recency", "=", "st.recency").whereRef("o.document_id", "=", "st.document_id")));
    }
    if (scope.kind === "granted") {
      found = found.where((eb) => eb.or([
        ...(scope.folderIds.length ? [eb("d.folder_id", "in", eb.selectFrom("visible_folders").select("visible_folders.id"))] : []),
        ...(scope.documentIds.length ? [eb("d.id", "in", scope.documentIds)] : []),
      ]));
    }
    return found.orderBy("st.recency", "desc").orderBy("st.document_id", "desc").execute();
  };

  // The decision for each candidate, by the one policy: folder levels as folderLevel gives them.
  const folderLevels: FolderLevels = new Map();
  const seen = new Set<string>();
  const visible: { row: Awaited<ReturnType<typeof candidates>>[number]; level: Level }[] = [];
  for (const tier of tiers) {
    const tokens = [...tier].sort((x, y) => rowsOf.get(x)! - rowsOf.get(y)!);
    if (rowsOf.get(tokens[0]!) === 0) continue;
    let newest: { recency: number; document_id: string } | undefined;
    for (let read = 0, slice = wanted + 10; visible.length < wanted && read < maxRowsRead; read += slice, slice = Math.min(slice * 4, largestSlice)) {
      // The slice ends at the driving token's `slice`-th row after `newest`; rows sharing a boundary's
      // recency are read twice and counted once.
      const oldest = await nthPosting(db, tenantId, tokens[0]!, newest, slice);
      const rows = await candidates(tokens, oldest?.recency, newest?.recency);
      await loadFolderLevels(db, tenantId, rights, rows.map((row) => row.folder_id), folderLevels);
      for (const row of rows) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        const level = documentLevelWithin(rights, row.id, folderLevels.get(row.folder_id) ?? "none");
        if (atLeast(level, "view")) visible.push({ row, level });
        if (visible.length === wanted) break;
      }
      if (!oldest) break;
      newest = oldest;
    }
  }
  return present(deps, tenantId, visible);
}

async function countRows(db: Db, tenantId: string, token: string): Promise<number> {
  const capped = db.selectFrom("search_tokens").select("document_id").where("tenant_id", "=", tenantId).where("token_hash", "=", token).limit(tokenCountCap);
  const counted = await db.selectFrom(capped.as("capped")).select((eb) => eb.fn.countAll<number | string>().as("rows")).executeTakeFirstOrThrow();
  return Number(counted.rows);
}

// The token's n-th row, newest first, after `after`; none when fewer are left.
async function nthPosting(db: Db, tenantId: string, token: string, after: { recency: number; document_id: string } | undefined, n: number) {
  let query = db.selectFrom("search_tokens").select(["recency", "document_id"]).where("tenant_id", "=", tenantId).where("token_hash", "=", token);
  if (after) query = query.where((eb) => eb(eb.refTuple("recency", "document_id"), "<", eb.tuple(after.recency, after.document_id)));
  const row = await query.orderBy("recency", "desc").orderBy("document_id", "desc").limit(1).offset(n - 1).executeTakeFirst();
  return row ? { recency: Number(row.recency), document_id: row.document_id } : undefined;
}

async function present(deps: { db: Db; vault: Vault }, tenantId: string, visible: { row: { id: string; kind: "file" | "page"; folder_id: string | null; updated_at: string }; level: Level }[]): Promise<SearchHit[]> {
  if (visible.length === 0) return [];
  const sealed = new Map((await deps.db.selectFrom("documents").select(["id", "title_ciphertext"]).where("tenant_id", "=", tenantId)
    .where("id", "in", visible.map(({ row }) => row.id)).execute()).map((document) => [document.id, document.title_ciphertext]));
  const hits: SearchHit[] = [];
  for (const { row, level } of visible) {
    const titleCiphertext = sealed.get(row.id);
    if (!titleCiphertext) continue; // deleted for good a moment ago
    hits.push({
      id: row.id, kind: row.kind, folderId: row.folder_id, updatedAt: row.updated_at, access: level,
      title: await deps.vault.data.openString(documentTitleContext(tenantId, row.id), titleCiphertext),
    });
  }
  return hits;
}
