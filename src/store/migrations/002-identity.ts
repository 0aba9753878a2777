// Companies' people and how they prove who they are: users, memberships and groups, invitations,
// sessions and devices, sign-in challenges, one-time links, API keys, operators, the dev outbox.
// Secret values are stored only as hashes (tokens, codes, API secrets) or vault ciphertext.

import { binaryType, int64Type, type SchemaMigration } from "./schema-migration.ts";
import { sql } from "kysely";

export const identityMigration: SchemaMigration = {
  name: "002_identity",
  async up(db, kind) {
    const binary = binaryType(kind);
    const int64 = int64Type(kind);

    await db.schema.alterTable("tenants").addColumn("ip_allowlist", "text", (c) => c.notNull().defaultTo("[]")).execute();
    await db.schema.alterTable("tenants").addColumn("require_admin_mfa", "integer", (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable("tenants").addColumn("oidc_allowed", "integer", (c) => c.notNull().defaultTo(1)).execute();

    await db.schema
      .createTable("users")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      // Blind index (keyed HMAC) of the normalised e-mail: lookups without storing it in plaintext.
      .addColumn("email_index", "text", (c) => c.notNull().unique())
      .addColumn("email_ciphertext", binary, (c) => c.notNull())
      .addColumn("name_ciphertext", binary, (c) => c.notNull())
      .addColumn("password_hash", "text")
      .addColumn("email_verified_at", "text")
      .addColumn("phone_ciphertext", binary)
      .addColumn("phone_verified_at", "text")
      .addColumn("totp_secret_ciphertext", binary)
      .addColumn("totp_enabled_at", "text")
      .addColumn("status", "text", (c) => c.notNull().defaultTo("active"))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addCheckConstraint("users_status", sql`status in ('active', 'disabled')`)
      .execute();

    await db.schema
      .createTable("memberships")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull().defaultTo("active"))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("memberships_pkey", ["tenant_id", "user_id"])
      .addCheckConstraint("memberships_role", sql`role in ('owner', 'admin', 'member', 'viewer')`)
      .addCheckConstraint("memberships_status", sql`status in ('active', 'suspended')`)
      .execute();
    await db.schema.createIndex("memberships_user").on("memberships").column("user_id").execute();

    await db.schema
      .createTable("groups")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("name_ciphertext", binary, (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("groups_pkey", ["tenant_id", "id"])
      .execute();

    await db.schema
      .createTable("group_members")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("group_id", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("group_members_pkey", ["tenant_id", "group_id", "user_id"])
      .execute();

    await db.schema
      .createTable("invitations")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("email_index", "text", (c) => c.notNull())
      .addColumn("email_ciphertext", binary, (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("invited_by", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("accepted_at", "text")
      .addColumn("revoked_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("invitations_pkey", ["tenant_id", "id"])
      .execute();

    await db.schema
      .createTable("devices")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("user_agent", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("last_seen_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .execute();
    await db.schema.createIndex("devices_user").on("devices").column("user_id").execute();

    await db.schema
      .createTable("sessions")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("tenant_id", "text")
      .addColumn("device_id", "text")
      .addColumn("second_factor", "text")
      .addColumn("ip", "text", (c) => c.notNull())
      .addColumn("user_agent", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("last_seen_at", "text", (c) => c.notNull())
      .addColumn("idle_expires_at", "text", (c) => c.notNull())
      .addColumn("absolute_expires_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .execute();
    await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();

    // A password that was right, waiting for the one-time code sent to a known channel.
    await db.schema
      .createTable("login_challenges")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("code_hash", "text", (c) => c.notNull())
      .addColumn("channel", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("ip", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("consumed_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();

    // Single-use e-mailed links: password reset and e-mail verification.
    await db.schema
      .createTable("one_time_links")
      .addColumn("token_hash", "text", (c) => c.primaryKey().notNull())
      .addColumn("purpose", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("used_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addCheckConstraint("one_time_links_purpose", sql`purpose in ('password_reset', 'email_verification')`)
      .execute();

    await db.schema
      .createTable("recovery_codes")
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("code_hash", "text", (c) => c.notNull())
      .addColumn("used_at", "text")
      .addPrimaryKeyConstraint("recovery_codes_pkey", ["user_id", "code_hash"])
      .execute();

    await db.schema
      .createTable("webauthn_credentials")
      .addColumn("credential_id", "text", (c) => c.primaryKey().notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("public_key", binary, (c) => c.notNull())
      .addColumn("counter", int64, (c) => c.notNull().defaultTo(0))
      .addColumn("transports", "text", (c) => c.notNull().defaultTo("[]"))
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("oidc_identities")
      .addColumn("issuer", "text", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("oidc_identities_pkey", ["issuer", "subject"])
      .execute();

    await db.schema
      .createTable("api_keys")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("tenant_id", "text", (c) => c.notNull())
      // Keyed HMAC of the secret: fast to check on every request, useless without the vault.
      .addColumn("secret_hash", "text", (c) => c.notNull())
      .addColumn("name_ciphertext", binary, (c) => c.notNull())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("expires_at", "text")
      .addColumn("revoked_at", "text")
      .addColumn("last_used_at", "text")
      .addColumn("last_used_ip", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("api_keys_tenant").on("api_keys").column("tenant_id").execute();

    await db.schema
      .createTable("operators")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("username", "text", (c) => c.notNull().unique())
      .addColumn("password_hash", "text", (c) => c.notNull())
      .addColumn("totp_secret_ciphertext", binary, (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("disabled_at", "text")
      .execute();

    // Dev default only: messages land here (sealed) instead of going out by SMTP or SMS.
    await db.schema
      .createTable("message_outbox")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      .addColumn("channel", "text", (c) => c.notNull())
      .addColumn("purpose", "text", (c) => c.notNull())
      .addColumn("message_ciphertext", binary, (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
  },
};
