// The search index: blind tokens (keyed hashes of words and prefixes, never the words) pointing at
// documents, one row per token and document. See src/modules/search/search-index.ts.

import { sql } from "kysely";
import { int64Type, type SchemaMigration } from "./schema-migration.ts";

export const searchIndexMigration: SchemaMigration = {
  name: "011_search_index",
  async up(db, kind) {
    await db.schema
      .createTable("search_tokens")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.notNull())
      // When the document last changed (ms since the epoch), the same on all of a document's rows.
      .addColumn("recency", int64Type(kind), (c) => c.notNull())
      .addColumn("document_id", "text", (c) => c.notNull())
      // The primary key is the lookup path: a company's token → its documents, newest first, so a
      // search reads only as many rows as it needs; checking a further token is one seek.
      .addPrimaryKeyConstraint("search_tokens_pkey", ["tenant_id", "token_hash", "recency", "document_id"])
      // A document that is deleted for good takes its tokens with it.
      .addForeignKeyConstraint("search_tokens_document_fkey", ["tenant_id", "document_id"], "documents", ["tenant_id", "id"], (fk) => fk.onDelete("cascade"))
      // On SQLite the table is its primary-key b-tree: no separate rowid table to store twice.
      .$call((table) => (kind === "sqlite" ? table.modifyEnd(sql`without rowid`) : table))
      .execute();
    await db.schema.createIndex("search_tokens_document").on("search_tokens").columns(["tenant_id", "document_id"]).execute();
  },
};
