// Finding the documents a caller may see by the words of their titles and page text. The query's
// words are hashed like the index (search-index.ts) and looked up by equality. Every query word must
// match; documents holding every word whole come first, then those where some word only starts a
// word; within each, the most recently changed first. The rarest token drives the lookup, newest
// first along the primary key; each further token is checked on the same key (a document's rows
// share one recency), and a query asks only for a page more than it needs. Rights decide before any
// title is opened: the database narrows the candidates to what the caller's grants reach, then
// document-access.ts's rules decide for each one.
import type { Kysely, QueryCreator } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { atLeast, documentLevelWithin, type DocumentRights, type Level } from "../documents/document-access.ts";
import { loadFolderLevels, type FolderLevels } from "./folder-levels.ts";
import { documentTitleContext, searchTokenHash } from "./search-index.ts";
import { queryTermsOf } from "./search-terms.ts";

export const maxSearchResults = 50;
// Past this many grants the database is not asked to narrow by them (the query would grow too
// large); candidates are then checked one by one, up to maxCandidatesChecked.
const maxGrantsForNarrowing = 2000;
const maxCandidatesChecked = 5000;
const batchWhenChecking = 500;
const tokenCountCap = 2000; // enough to tell a rare token from a common one, cheaply

export type SearchHit = { id: string; kind: "file" | "page"; title: string; folderId: string | null; updatedAt: string; access: Level };

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

export async function searchDocuments(
  deps: { db: Kysely<DatabaseSchema>; vault: Vault },
  tenantId: string,
  rights: DocumentRights,
  query: string,
  limit: number,
): Promise<SearchHit[]> {
  const { db, vault } = deps;
  const terms = queryTermsOf(query);
  const wanted = Math.max(1, Math.min(limit, maxSearchResults));
  const scope = scopeOf(rights);
  if (!scope) return [];
  const hash = (token: string) => searchTokenHash(vault, tenantId, token);
  const wholeWords = [...new Set(terms.map((term) => hash(term.exact)))];
  const wordsOrPrefixes = [...new Set(terms.map((term) => hash(term.required)))];
  const tiers = wholeWords.every((token) => wordsOrPrefixes.includes(token)) ? [wordsOrPrefixes] : [wholeWords, wordsOrPrefixes];

  // How many rows each token has (up to a cap): the rarest drives, an absent one ends the tier.
  const rowsOf = new Map<string, number>();
  for (const token of new Set(tiers.flat())) {
    const counted = await db.selectFrom(db.selectFrom("search_tokens").select("document_id").where("tenant_id", "=", tenantId).where("token_hash", "=", token).limit(tokenCountCap).as("capped"))
      .select((eb) => eb.fn.countAll<number | string>().as("rows")).executeTakeFirstOrThrow();
    rowsOf.set(token, Number(counted.rows));
  }

  const creator: QueryCreator<WithVisibleFolders> = scope.kind === "granted" && scope.folderIds.length > 0
    // The granted folders and everything below them: a superset of what the caller may see there.
    ? db.withRecursive("visible_folders(id)", (qc) => qc.selectFrom("folders").select("id").where("tenant_id", "=", tenantId).where("id", "in", scope.folderIds)
      .union(qc.selectFrom("folders").innerJoin("visible_folders", "visible_folders.id", "folders.parent_id").select("folders.id").where("folders.tenant_id", "=", tenantId)))
    : (db as unknown as QueryCreator<WithVisibleFolders>);

  const candidates = (tokens: string[], offset: number, count: number) => {
    const [driver, ...others] = tokens;
    let found = creator.selectFrom("search_tokens as st")
      .innerJoin("documents as d", (join) => join.onRef("d.tenant_id", "=", "st.tenant_id").onRef("d.id", "=", "st.document_id"))
      .select(["d.id", "d.kind", "d.folder_id", "d.title_ciphertext", "d.updated_at"])
      .where("st.tenant_id", "=", tenantId).where("st.token_hash", "=", driver!)
      .where("d.deleted_at", "is", null).where("d.current_version", ">", 0);
    for (const other of others) {
      // All of a document's rows carry the same recency, so this is a seek on the primary key.
      found = found.where((eb) => eb.exists(eb.selectFrom("search_tokens as o").select("o.document_id").where("o.tenant_id", "=", tenantId)
        .where("o.token_hash", "=", other).whereRef("o.recency", "=", "st.recency").whereRef("o.document_id", "=", "st.document_id")));
    }
    if (scope.kind === "granted") {
      found = found.where((eb) => eb.or([
        ...(scope.folderIds.length ? [eb("d.folder_id", "in", eb.selectFrom("visible_folders").select("visible_folders.id"))] : []),
        ...(scope.documentIds.length ? [eb("d.id", "in", scope.documentIds)] : []),
      ]));
    }
    return found.orderBy("st.recency", "desc").orderBy("st.document_id", "desc").limit(count).offset(offset).execute();
  };

  // The decision for each candidate, by the one policy: folder levels as folderLevel gives them.
  const folderLevels: FolderLevels = new Map();

  const batch = scope.kind === "check_each" ? batchWhenChecking : wanted + 10;
  const seen = new Set<string>();
  const visible: { row: Awaited<ReturnType<typeof candidates>>[number]; level: Level }[] = [];
  for (const tier of tiers) {
    const tokens = [...tier].sort((x, y) => rowsOf.get(x)! - rowsOf.get(y)!);
    if (rowsOf.get(tokens[0]!) === 0) continue;
    for (let offset = 0; visible.length < wanted && offset < maxCandidatesChecked; offset += batch) {
      const rows = await candidates(tokens, offset, batch);
      await loadFolderLevels(db, tenantId, rights, rows.map((row) => row.folder_id), folderLevels);
      for (const row of rows) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        const level = documentLevelWithin(rights, row.id, folderLevels.get(row.folder_id) ?? "none");
        if (atLeast(level, "view")) visible.push({ row, level });
        if (visible.length === wanted) break;
      }
      if (rows.length < batch) break;
    }
  }

  const hits: SearchHit[] = [];
  for (const { row, level } of visible) {
    hits.push({
      id: row.id, kind: row.kind, folderId: row.folder_id, updatedAt: row.updated_at, access: level,
      title: await vault.data.openString(documentTitleContext(tenantId, row.id), row.title_ciphertext),
    });
  }
  return hits;
}
