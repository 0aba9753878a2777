// OpenID Connect sign-ins in flight: one row per redirect to a provider, found by a keyed hash of its
// `state`, bound to the browser by a keyed hash of a cookie, used once and good for ten minutes.
// Neither the state, the cookie, the nonce nor the PKCE verifier is stored.

import type { SchemaMigration } from "./schema-migration.ts";

export const oidcLoginAttemptsMigration: SchemaMigration = {
  name: "004_oidc_login_attempts",
  async up(db) {
    await db.schema
      .createTable("oidc_login_attempts")
      .addColumn("state_hash", "text", (c) => c.primaryKey().notNull())
      .addColumn("binding_hash", "text", (c) => c.notNull())
      .addColumn("provider_id", "text", (c) => c.notNull())
      // The company the person asked to sign in to, if any (checked at the callback, not trusted).
      .addColumn("tenant_hint", "text")
      .addColumn("ip", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("consumed_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("oidc_login_attempts_expires").on("oidc_login_attempts").column("expires_at").execute();
    await db.schema.createIndex("oidc_login_attempts_ip").on("oidc_login_attempts").column("ip").execute();
  },
};
