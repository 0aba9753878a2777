// Finding the documents a caller may see by the words of their titles and page text. The query's
// words are hashed like the index (search-index.ts) and looked up by equality; every query word must
// match (as a word or the start of one); results rank by matched tokens (an exact word counts more
// than a prefix), then by recency. Rights decide before any title is opened: the database narrows
// the candidates to what the caller's grants reach, then document-access.ts decides for each one.
import type { Kysely, QueryCreator } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { atLeast, documentLevelWithin, folderLevel, type DocumentRights, type Level } from "../documents/document-access.ts";
import { documentTitleContext, searchTokenHash } from "./search-index.ts";
import { queryTermsOf } from "./search-terms.ts";

export const maxSearchResults = 50;
// Past this many grants the database is not asked to narrow by them (the query would grow too
// large); candidates are then checked one by one, up to maxCandidatesChecked.
const maxGrantsForNarrowing = 2000;
const maxCandidatesChecked = 5000;
const batchWhenChecking = 500;

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
  const required = [...new Set(terms.map((term) => hash(term.required)))];
  const all = [...new Set([...required, ...terms.map((term) => hash(term.exact))])];

  const creator: QueryCreator<WithVisibleFolders> = scope.kind === "granted" && scope.folderIds.length > 0
    // The granted folders and everything below them: a superset of what the caller may see there.
    ? db.withRecursive("visible_folders(id)", (qc) => qc.selectFrom("folders").select("id").where("tenant_id", "=", tenantId).where("id", "in", scope.folderIds)
      .union(qc.selectFrom("folders").innerJoin("visible_folders", "visible_folders.id", "folders.parent_id").select("folders.id").where("folders.tenant_id", "=", tenantId)))
    : (db as unknown as QueryCreator<WithVisibleFolders>);

  const candidates = (offset: number, count: number) => {
    const matched = creator.selectFrom("search_tokens")
      .select((eb) => ["document_id", eb.fn.count<number | string>("token_hash").distinct().as("score")])
      .where("tenant_id", "=", tenantId).where("token_hash", "in", all)
      .groupBy("document_id")
      .having((eb) => eb.fn.count(eb.case().when("token_hash", "in", required).then(eb.ref("token_hash")).end()).distinct(), "=", required.length);
    let found = creator.selectFrom(matched.as("m"))
      .innerJoin("documents as d", (join) => join.onRef("d.id", "=", "m.document_id").on("d.tenant_id", "=", tenantId))
      .select(["d.id", "d.kind", "d.folder_id", "d.title_ciphertext", "d.updated_at", "m.score"])
      .where("d.deleted_at", "is", null).where("d.current_version", ">", 0);
    if (scope.kind === "granted") {
      found = found.where((eb) => eb.or([
        ...(scope.folderIds.length ? [eb("d.folder_id", "in", eb.selectFrom("visible_folders").select("visible_folders.id"))] : []),
        ...(scope.documentIds.length ? [eb("d.id", "in", scope.documentIds)] : []),
      ]));
    }
    return found.orderBy("m.score", "desc").orderBy("d.updated_at", "desc").orderBy("d.id").limit(count).offset(offset).execute();
  };

  // The decision for each candidate, by the one policy; a folder's level is worked out once.
  const folderLevels = new Map<string, Promise<Level>>();
  const levelOfFolder = (folderId: string | null) => {
    const key = folderId ?? "";
    let level = folderLevels.get(key);
    if (!level) folderLevels.set(key, (level = folderLevel(db, tenantId, rights, folderId)));
    return level;
  };

  const batch = scope.kind === "check_each" ? batchWhenChecking : wanted + 10;
  const visible: { row: Awaited<ReturnType<typeof candidates>>[number]; level: Level }[] = [];
  for (let offset = 0; visible.length < wanted && offset < maxCandidatesChecked; offset += batch) {
    const rows = await candidates(offset, batch);
    for (const row of rows) {
      const level = documentLevelWithin(rights, row.id, await levelOfFolder(row.folder_id));
      if (atLeast(level, "view")) visible.push({ row, level });
      if (visible.length === wanted) break;
    }
    if (rows.length < batch) break;
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
