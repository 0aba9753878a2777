// The search index, kept without plaintext: blind indexes.
//
// Design. A document's title and page text are cut into words (search-terms.ts); each word and each
// of its prefixes of 3+ characters becomes a token, stored only as a keyed hash,
// HMAC-SHA256(purpose key "search-token", tenantId ‖ 0 ‖ token) cut to 128 bits, in rows
// (tenant_id, token_hash, recency, document_id), where recency is when the document last changed.
// The key lives behind the vault (a sealed vault can neither index nor search), and the company id
// inside the MAC gives every company its own hash space: the same word hashes differently in two
// companies. A query is hashed the same way and looked up by equality, newest first along the
// primary key (search-documents.ts); titles are opened only for the few results the caller may see.
// Rights are never stored in the index: they apply at query time, so a changed grant counts at once.
// A document's rows are always replaced together (title and text, with one recency). Trashed
// documents keep their rows (restoring needs nothing) and are left out at query time; a document
// deleted for good loses its rows (foreign key, ON DELETE CASCADE).
//
// What it leaks (SECURITY). Equal tokens give equal hashes within one company, so someone who can
// read the database (but not the vault) learns, per company: how many distinct words and prefixes
// each document has (roughly its length, up to the cap), which documents share a word, and how often
// each (unknown) word occurs. Frequency analysis against a known language can guess common words,
// and the chains of prefixes help it (a word of n letters gives n-2 related hashes); a guess cannot
// be tested without the key. An encrypted index would hide this but could not be searched by the
// database; this is the usual price of blind indexes.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { openVersion, type ContentDeps } from "../documents/document-content.ts";
import { indexTokensOf } from "./search-terms.ts";

export const maxTitleTokens = 500;
export const maxTextTokens = 3000;
const hashLength = 22; // base64url characters: 128 bits of the HMAC (the 22nd character carries 2 extra bits)
const rowsPerInsert = 500; // 4 parameters a row: well under SQLite's and PostgreSQL's limits
const documentsPerRebuildBatch = 200;
const maxPageBytes = 1024 * 1024;

type Db = Kysely<DatabaseSchema>;
export type IndexedDocument = { documentId: string; title: string; text?: string | undefined };

export function searchTokenHash(vault: Vault, tenantId: string, token: string): string {
  return vault.mac("search-token", `${tenantId}\0${token}`).slice(0, hashLength);
}

export function tokensOfDocument(document: { title: string; text?: string | undefined }): Set<string> {
  return new Set([...indexTokensOf(document.title, maxTitleTokens), ...(document.text ? indexTokensOf(document.text, maxTextTokens) : [])]);
}

// Replaces everything the index holds for a document with its title and (for a page) its text, at
// the document's current recency. Call it with the whole of both: a title alone drops the text.
export async function indexDocument(db: Db, vault: Vault, tenantId: string, documentId: string, document: { title: string; text?: string | undefined }): Promise<void> {
  await indexDocuments(db, vault, tenantId, [{ documentId, ...document }]);
}

// The same for many documents of one company at once, with batched inserts (rebuilds, imports).
// Returns the number of index rows written; documents that do not exist are left out of the index.
export async function indexDocuments(db: Db, vault: Vault, tenantId: string, documents: readonly IndexedDocument[]): Promise<number> {
  if (documents.length === 0) return 0;
  // Hashed before the transaction, which then only reads recencies and writes rows.
  const hashesOf = new Map<string, string[]>();
  for (const document of documents) {
    if (!hashesOf.has(document.documentId)) hashesOf.set(document.documentId, [...tokensOfDocument(document)].map((token) => searchTokenHash(vault, tenantId, token)));
  }
  const ids = [...hashesOf.keys()];
  const write = async (trx: Db) => {
    const rows: DatabaseSchema["search_tokens"][] = [];
    for (let start = 0; start < ids.length; start += rowsPerInsert) {
      const chunk = ids.slice(start, start + rowsPerInsert);
      // A write that changes nothing but takes the documents' row locks: two re-indexings of one
      // document run one after the other, so its rows never mix two versions (or two recencies).
      const existing = await trx.updateTable("documents").set((eb) => ({ updated_at: eb.ref("updated_at") }))
        .where("tenant_id", "=", tenantId).where("id", "in", chunk).returning(["id", "updated_at"]).execute();
      await trx.deleteFrom("search_tokens").where("tenant_id", "=", tenantId).where("document_id", "in", chunk).execute();
      for (const document of existing) {
        const recency = Date.parse(document.updated_at);
        for (const tokenHash of hashesOf.get(document.id)!) rows.push({ tenant_id: tenantId, token_hash: tokenHash, recency, document_id: document.id });
      }
    }
    for (let start = 0; start < rows.length; start += rowsPerInsert) {
      // Two truncated hashes of different tokens colliding would be a duplicate key: keep one.
      await trx.insertInto("search_tokens").values(rows.slice(start, start + rowsPerInsert)).onConflict((oc) => oc.doNothing()).execute();
    }
    return rows.length;
  };
  return db.isTransaction ? write(db) : db.transaction().execute(write);
}

export async function removeFromIndex(db: Db, tenantId: string, documentId: string): Promise<void> {
  await db.deleteFrom("search_tokens").where("tenant_id", "=", tenantId).where("document_id", "=", documentId).execute();
}

export type StoredDocumentDeps = Pick<ContentDeps, "db" | "vault" | "blobStore">;

// Must match the title's sealing context in documents/document-routes.ts.
export const documentTitleContext = (tenantId: string, documentId: string) => ({ tenantId, objectType: "document", objectId: documentId, objectVersion: 1, field: "title" });

// Reads what a document holds now (its title and, for a page, the current version's text) and indexes
// it: the one call to make after anything changed a document (created, renamed, uploaded, edited, restored).
export async function indexStoredDocument(deps: StoredDocumentDeps, tenantId: string, documentId: string): Promise<void> {
  const document = await deps.db.selectFrom("documents").select(["id", "kind", "title_ciphertext", "current_version"])
    .where("tenant_id", "=", tenantId).where("id", "=", documentId).executeTakeFirst();
  if (!document) {
    await removeFromIndex(deps.db, tenantId, documentId);
    return;
  }
  await indexDocuments(deps.db, deps.vault, tenantId, [await readIndexedDocument(deps, tenantId, document)]);
}

// Re-indexes every document of a company from what is stored (after a change of tokeniser, or a
// repair), a batch at a time; searches keep working meanwhile.
export async function rebuildSearchIndex(deps: StoredDocumentDeps, tenantId: string): Promise<{ documents: number; tokens: number }> {
  let documents = 0;
  let tokens = 0;
  let after = "";
  for (;;) {
    const batch = await deps.db.selectFrom("documents").select(["id", "kind", "title_ciphertext", "current_version"])
      .where("tenant_id", "=", tenantId).where("id", ">", after).orderBy("id").limit(documentsPerRebuildBatch).execute();
    if (batch.length === 0) break;
    const stored = [];
    for (const document of batch) stored.push(await readIndexedDocument(deps, tenantId, document));
    tokens += await indexDocuments(deps.db, deps.vault, tenantId, stored);
    documents += batch.length;
    after = batch[batch.length - 1]!.id;
  }
  return { documents, tokens };
}

async function readIndexedDocument(
  deps: StoredDocumentDeps,
  tenantId: string,
  document: { id: string; kind: "file" | "page"; title_ciphertext: Uint8Array; current_version: number },
): Promise<IndexedDocument> {
  const title = await deps.vault.data.openString(documentTitleContext(tenantId, document.id), document.title_ciphertext);
  if (document.kind !== "page" || document.current_version === 0) return { documentId: document.id, title };
  const row = await deps.db.selectFrom("document_versions").select(["tenant_id", "document_id", "version", "blob_key", "sealed_size"])
    .where("tenant_id", "=", tenantId).where("document_id", "=", document.id).where("version", "=", document.current_version)
    .where("state", "=", "complete").executeTakeFirst();
  if (!row) return { documentId: document.id, title };
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, undefined)) {
    chunks.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= maxPageBytes) break;
  }
  return { documentId: document.id, title, text: Buffer.concat(chunks).toString("utf8") };
}
