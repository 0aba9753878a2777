// A phone number waiting for its SMS code before it becomes the user's second channel for sign-in codes.

import { binaryType, type SchemaMigration } from "./schema-migration.ts";

export const phoneVerificationMigration: SchemaMigration = {
  name: "008_phone_verification",
  async up(db, kind) {
    await db.schema
      .createTable("phone_verifications")
      .addColumn("user_id", "text", (c) => c.primaryKey().notNull())
      .addColumn("phone_ciphertext", binaryType(kind), (c) => c.notNull())
      .addColumn("code_hash", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
  },
};
