// Folder listings read a folder's documents in id order, a page at a time: an index on
// (tenant, folder, id) serves that order directly instead of sorting the whole folder per request.

import type { SchemaMigration } from "./schema-migration.ts";

export const listingOrderIndexMigration: SchemaMigration = {
  name: "016_listing_order_index",
  async up(db) {
    await db.schema.createIndex("documents_folder_order").on("documents").columns(["tenant_id", "folder_id", "id"]).execute();
    // The new index serves every lookup the old (tenant, folder) prefix did.
    await db.schema.dropIndex("documents_folder").execute();
  },
};
