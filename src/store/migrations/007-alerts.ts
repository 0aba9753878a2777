// Alert channels that companies configure for security events (webhook or e-mail; the target and the
// webhook's signing secret sealed), and a record of every delivery attempt to them and to the operator.

import { binaryType, type SchemaMigration } from "./schema-migration.ts";
import { sql } from "kysely";

export const alertsMigration: SchemaMigration = {
  name: "007_alerts",
  async up(db, kind) {
    const binary = binaryType(kind);

    await db.schema
      .createTable("alert_channels")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      // The webhook URL or the e-mail address, sealed: URLs often carry a token, addresses are personal.
      .addColumn("target_ciphertext", binary, (c) => c.notNull())
      // Webhook only: the HMAC signing secret, sealed; wiped when the channel is deleted.
      .addColumn("secret_ciphertext", binary)
      // JSON array of event types; empty means every type.
      .addColumn("event_types", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("deleted_at", "text")
      .addPrimaryKeyConstraint("alert_channels_pkey", ["tenant_id", "id"])
      .addCheckConstraint("alert_channels_kind", sql`kind in ('webhook', 'email')`)
      .execute();

    await db.schema
      .createTable("alert_deliveries")
      .addColumn("id", "text", (c) => c.primaryKey().notNull())
      // The company whose channel it was; null for the operator's channels.
      .addColumn("tenant_id", "text")
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("channel_kind", "text", (c) => c.notNull())
      .addColumn("event_id", "text", (c) => c.notNull())
      .addColumn("event_type", "text", (c) => c.notNull())
      .addColumn("attempt", "integer", (c) => c.notNull())
      .addColumn("outcome", "text", (c) => c.notNull())
      .addColumn("http_status", "integer")
      .addColumn("error", "text")
      .addColumn("at", "text", (c) => c.notNull())
      .addCheckConstraint("alert_deliveries_outcome", sql`outcome in ('delivered', 'retrying', 'failed')`)
      .execute();
    await db.schema.createIndex("alert_deliveries_channel").on("alert_deliveries").columns(["tenant_id", "channel_id", "at"]).execute();
    await db.schema.createIndex("alert_deliveries_at").on("alert_deliveries").columns(["at"]).execute();
  },
};
