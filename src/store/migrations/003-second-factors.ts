// Stronger second factors: the last TOTP time step each user used (so a code cannot be replayed),
// whether a sign-in's e-mailed/SMS code was sent (users with TOTP or a passkey get it on request),
// passkeys' last use, and WebAuthn challenges, stored only as keyed hashes and used once.

import { sql } from "kysely";
import type { SchemaMigration } from "./schema-migration.ts";

export const secondFactorsMigration: SchemaMigration = {
  name: "003_second_factors",
  async up(db) {
    await db.schema.alterTable("users").addColumn("totp_last_step", "integer").execute();
    await db.schema.alterTable("login_challenges").addColumn("code_sent_at", "text").execute();
    // Challenges opened before this migration had their code sent at once.
    await db.updateTable("login_challenges").set({ code_sent_at: sql`created_at` }).execute();
    await db.schema.alterTable("webauthn_credentials").addColumn("last_used_at", "text").execute();

    await db.schema
      .createTable("webauthn_challenges")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("challenge_hash", "text", (c) => c.notNull().unique())
      .addColumn("purpose", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      // Registration: the session that asked. Sign-in: the login challenge it answers.
      .addColumn("session_id", "text")
      .addColumn("login_challenge_id", "text")
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("consumed_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addCheckConstraint("webauthn_challenges_purpose", sql`purpose in ('registration', 'authentication')`)
      .execute();
    await db.schema.createIndex("webauthn_challenges_user").on("webauthn_challenges").column("user_id").execute();
  },
};
