// A company's files and pages: folders (a tree), documents with numbered versions whose content lives
// sealed in the blob store, and grants of view/edit/manage to users or groups on folders and documents.

import { binaryType, int64Type, type SchemaMigration } from "./schema-migration.ts";
import { sql } from "kysely";

export const documentsMigration: SchemaMigration = {
  name: "009_documents",
  async up(db, kind) {
    const binary = binaryType(kind);
    await db.schema
      .createTable("folders")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("parent_id", "text")
      .addColumn("name_ciphertext", binary, (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("deleted_at", "text")
      .addPrimaryKeyConstraint("folders_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("folders_parent").on("folders").columns(["tenant_id", "parent_id"]).execute();

    await db.schema
      .createTable("documents")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("folder_id", "text")
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("title_ciphertext", binary, (c) => c.notNull())
      // 0 until the first version is complete: such a document is invisible.
      .addColumn("current_version", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addColumn("deleted_at", "text")
      .addPrimaryKeyConstraint("documents_pkey", ["tenant_id", "id"])
      .addCheckConstraint("documents_kind", sql`kind in ('file', 'page')`)
      .execute();
    await db.schema.createIndex("documents_folder").on("documents").columns(["tenant_id", "folder_id"]).execute();

    await db.schema
      .createTable("document_versions")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("document_id", "text", (c) => c.notNull())
      .addColumn("version", "integer", (c) => c.notNull())
      .addColumn("blob_key", "text", (c) => c.notNull())
      .addColumn("size", int64Type(kind), (c) => c.notNull().defaultTo(0))
      .addColumn("sealed_size", int64Type(kind), (c) => c.notNull().defaultTo(0))
      .addColumn("content_type", "text", (c) => c.notNull())
      .addColumn("filename_ciphertext", binary)
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("document_versions_pkey", ["tenant_id", "document_id", "version"])
      .addCheckConstraint("document_versions_state", sql`state in ('uploading', 'complete')`)
      .execute();

    await db.schema
      .createTable("grants")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("resource_type", "text", (c) => c.notNull())
      .addColumn("resource_id", "text", (c) => c.notNull())
      .addColumn("principal_type", "text", (c) => c.notNull())
      .addColumn("principal_id", "text", (c) => c.notNull())
      .addColumn("permission", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("grants_pkey", ["tenant_id", "resource_type", "resource_id", "principal_type", "principal_id"])
      .addCheckConstraint("grants_resource_type", sql`resource_type in ('folder', 'document')`)
      .addCheckConstraint("grants_principal_type", sql`principal_type in ('user', 'group')`)
      .addCheckConstraint("grants_permission", sql`permission in ('view', 'edit', 'manage')`)
      .execute();
    await db.schema.createIndex("grants_principal").on("grants").columns(["tenant_id", "principal_type", "principal_id"]).execute();
  },
};
