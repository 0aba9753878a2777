// The caller's level on many folders at once: the same answer as folderLevel in
// documents/document-access.ts (folder-levels.test.ts proves it on random trees), but each folder is
// loaded once, a generation of ancestors per query, instead of one walk up the tree per folder.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import { childFolderLevelWithin, folderLevel, type DocumentRights, type Level } from "../documents/document-access.ts";

const maxDepth = 64; // as folderLevel: a folder and at most 63 ancestors count
const idsPerQuery = 500;

export type FolderLevels = Map<string | null, Level>;

// Adds the levels of `folderIds` (null = the company root) to `known`, and returns it.
export async function loadFolderLevels(db: Kysely<DatabaseSchema>, tenantId: string, rights: DocumentRights, folderIds: Iterable<string | null>, known: FolderLevels = new Map()): Promise<FolderLevels> {
  const wanted = [...new Set(folderIds)].filter((id) => !known.has(id));
  if (wanted.includes(null)) known.set(null, await folderLevel(db, tenantId, rights, null));
  const parents = new Map<string, string | null>(); // loaded folders; absent = missing (or beyond the depth)
  let frontier = wanted.filter((id): id is string => id !== null);
  for (let depth = 0; frontier.length > 0 && depth < maxDepth; depth++) {
    const next = new Set<string>();
    for (let start = 0; start < frontier.length; start += idsPerQuery) {
      const rows = await db.selectFrom("folders").select(["id", "parent_id"]).where("tenant_id", "=", tenantId)
        .where("id", "in", frontier.slice(start, start + idsPerQuery)).execute();
      for (const row of rows) {
        parents.set(row.id, row.parent_id);
        if (row.parent_id !== null && !parents.has(row.parent_id)) next.add(row.parent_id);
      }
    }
    frontier = [...next].filter((id) => !parents.has(id));
  }
  for (const folderId of wanted) {
    if (folderId === null) continue;
    const chain: string[] = [];
    let missing = false;
    for (let current: string | null = folderId; current !== null && chain.length < maxDepth; ) {
      if (!parents.has(current)) {
        missing = true;
        break;
      }
      chain.push(current);
      current = parents.get(current)!;
    }
    let level: Level = rights.blanket;
    for (let i = chain.length - 1; i >= 0; i--) level = childFolderLevelWithin(rights, chain[i]!, level);
    known.set(folderId, missing ? "none" : level);
  }
  return known;
}
