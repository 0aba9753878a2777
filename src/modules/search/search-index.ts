// The search index, kept without plaintext: blind indexes.
//
// Design. Titles and page text are cut into words (search-terms.ts) and each word and each of its
// prefixes of 3+ characters becomes a token; a token is stored only as a keyed hash,
// HMAC-SHA256(purpose key "search-token", tenantId ‖ 0 ‖ token) cut to 128 bits, in rows
// (tenant_id, token_hash, document_id, field). The key lives behind the vault (a sealed vault cannot
// index or search), and the company id inside the MAC gives every company its own hash space: the
// same word hashes differently in two companies. A query is hashed the same way and looked up by
// equality (search-documents.ts); titles are opened only for the few results the caller may see.
// Rights are never stored in the index: they are applied at query time, so a changed grant takes
// effect at once. Trashed documents keep their rows (restoring needs no re-indexing) and are left out
// at query time; deleting a document for good removes its rows (foreign key, ON DELETE CASCADE).
//
// What it leaks (SECURITY). Equal tokens give equal hashes within one company, so someone who can
// read the database (not the vault) learns, per company: how many distinct words and prefixes each
// document has, which documents share a word, how often each (unknown) word occurs, and whether it
// comes from a title or a text. Frequency analysis against a known language can guess common words
// (and the prefix chains make that easier); it cannot test a guess without the key. Index rows also
// reveal a document's approximate text length up to the cap. An encrypted index would hide this but
// could not be queried by the database; this trade is the usual one for blind indexes.
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
type Field = "title" | "text";
export type IndexedFields = { title?: string | undefined; text?: string | undefined };

export function searchTokenHash(vault: Vault, tenantId: string, token: string): string {
  return vault.mac("search-token", `${tenantId}\0${token}`).slice(0, hashLength);
}

// Replaces the tokens of the fields given (a rename passes only the title, a page edit only the text);
// fields left out keep their tokens.
export async function indexDocument(db: Db, vault: Vault, tenantId: string, documentId: string, fields: IndexedFields): Promise<void> {
  await indexDocuments(db, vault, tenantId, [{ documentId, ...fields }]);
}

// The same for many documents of one company at once, with batched inserts (rebuilds, imports).
export async function indexDocuments(db: Db, vault: Vault, tenantId: string, documents: readonly ({ documentId: string } & IndexedFields)[]): Promise<number> {
  const rows: DatabaseSchema["search_tokens"][] = [];
  const replaced: { documentId: string; field: Field }[] = [];
  for (const document of documents) {
    for (const [field, text, cap] of [["title", document.title, maxTitleTokens], ["text", document.text, maxTextTokens]] as const) {
      if (text === undefined) continue;
      replaced.push({ documentId: document.documentId, field });
      for (const token of indexTokensOf(text, cap)) {
        rows.push({ tenant_id: tenantId, token_hash: searchTokenHash(vault, tenantId, token), document_id: document.documentId, field });
      }
    }
  }
  if (replaced.length === 0) return 0;
  const write = async (trx: Db) => {
    for (const field of ["title", "text"] as const) {
      const ids = replaced.filter((entry) => entry.field === field).map((entry) => entry.documentId);
      for (let start = 0; start < ids.length; start += rowsPerInsert) {
        await trx.deleteFrom("search_tokens").where("tenant_id", "=", tenantId).where("field", "=", field)
          .where("document_id", "in", ids.slice(start, start + rowsPerInsert)).execute();
      }
    }
    for (let start = 0; start < rows.length; start += rowsPerInsert) {
      // Two truncated hashes of different tokens colliding would be a duplicate key: keep one.
      await trx.insertInto("search_tokens").values(rows.slice(start, start + rowsPerInsert)).onConflict((oc) => oc.doNothing()).execute();
    }
  };
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
  return rows.length;
}

export async function removeFromIndex(db: Db, tenantId: string, documentId: string): Promise<void> {
  await db.deleteFrom("search_tokens").where("tenant_id", "=", tenantId).where("document_id", "=", documentId).execute();
}

export type StoredDocumentDeps = Pick<ContentDeps, "db" | "vault" | "blobStore">;

// Must match the title's sealing context in documents/document-routes.ts.
export const documentTitleContext = (tenantId: string, documentId: string) => ({ tenantId, objectType: "document", objectId: documentId, objectVersion: 1, field: "title" });

// Reads what a document holds now (its title and, for a page, the current version's text) and indexes it.
export async function indexStoredDocument(deps: StoredDocumentDeps, tenantId: string, documentId: string): Promise<void> {
  const document = await deps.db.selectFrom("documents").select(["id", "kind", "title_ciphertext", "current_version"])
    .where("tenant_id", "=", tenantId).where("id", "=", documentId).executeTakeFirst();
  if (!document) {
    await removeFromIndex(deps.db, tenantId, documentId);
    return;
  }
  await indexDocuments(deps.db, deps.vault, tenantId, [await storedFields(deps, tenantId, document)]);
}

// Rebuilds a company's whole index from its documents (after a change of tokeniser, or a repair).
export async function rebuildSearchIndex(deps: StoredDocumentDeps, tenantId: string): Promise<{ documents: number; tokens: number }> {
  await deps.db.deleteFrom("search_tokens").where("tenant_id", "=", tenantId).execute();
  let documents = 0;
  let tokens = 0;
  let after = "";
  for (;;) {
    const batch = await deps.db.selectFrom("documents").select(["id", "kind", "title_ciphertext", "current_version"])
      .where("tenant_id", "=", tenantId).where("id", ">", after).orderBy("id").limit(documentsPerRebuildBatch).execute();
    if (batch.length === 0) break;
    const fields = [];
    for (const document of batch) fields.push(await storedFields(deps, tenantId, document));
    tokens += await indexDocuments(deps.db, deps.vault, tenantId, fields);
    documents += batch.length;
    after = batch[batch.length - 1]!.id;
  }
  return { documents, tokens };
}

async function storedFields(
  deps: StoredDocumentDeps,
  tenantId: string,
  document: { id: string; kind: "file" | "page"; title_ciphertext: Uint8Array; current_version: number },
): Promise<{ documentId: string } & IndexedFields> {
  const title = await deps.vault.data.openString(documentTitleContext(tenantId, document.id), document.title_ciphertext);
  if (document.kind !== "page" || document.current_version === 0) return { documentId: document.id, title, text: "" };
  const row = await deps.db.selectFrom("document_versions").select(["tenant_id", "document_id", "version", "blob_key", "sealed_size"])
    .where("tenant_id", "=", tenantId).where("document_id", "=", document.id).where("version", "=", document.current_version)
    .where("state", "=", "complete").executeTakeFirst();
  if (!row) return { documentId: document.id, title, text: "" };
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, undefined)) {
    chunks.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= maxPageBytes) break;
  }
  return { documentId: document.id, title, text: Buffer.concat(chunks).toString("utf8") };
}
