// Signature requests on a PDF document: the request (sealed title and message, order, status, expiry,
// reminders, the final PDF and its seal once completed), its recipients (sealed contact details; link
// token and PIN only as keyed hashes), the fields placed for them (sealed values), the evidence trail,
// and the company's webhooks for request events with their delivery queue.

import { binaryType, int64Type, type SchemaMigration } from "./schema-migration.ts";

export const signatureRequestsMigration: SchemaMigration = {
  name: "013_signature_requests",
  async up(db, kind) {
    const binary = binaryType(kind);
    const int64 = int64Type(kind);
    await db.schema
      .createTable("signature_requests")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("document_id", "text", (c) => c.notNull())
      .addColumn("document_version", "integer", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("title_ciphertext", binary, (c) => c.notNull())
      .addColumn("message_ciphertext", binary)
      .addColumn("signing_order", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("reminder_days", "integer")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("sent_at", "text")
      .addColumn("finished_at", "text")
      .addColumn("final_blob_key", "text")
      .addColumn("final_size", int64)
      .addColumn("final_sealed_size", int64)
      .addColumn("seal_sha256", "text")
      .addColumn("seal_ciphertext", binary)
      .addPrimaryKeyConstraint("signature_requests_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("signature_requests_document").on("signature_requests").columns(["tenant_id", "document_id"]).execute();
    await db.schema.createIndex("signature_requests_status").on("signature_requests").columns(["status", "expires_at"]).execute();

    await db.schema
      .createTable("signature_recipients")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("request_id", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("order_index", "integer", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      // Name, e-mail and phone, sealed under the company's key.
      .addColumn("contact_ciphertext", binary, (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.unique())
      .addColumn("pin_hash", "text")
      .addColumn("pin_failures", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("locked_at", "text")
      .addColumn("notified_at", "text")
      .addColumn("reminded_at", "text")
      .addColumn("consent_at", "text")
      .addColumn("signed_at", "text")
      .addColumn("declined_at", "text")
      .addColumn("decline_reason_ciphertext", binary)
      .addColumn("signed_ip", "text")
      .addColumn("signed_user_agent", "text")
      .addPrimaryKeyConstraint("signature_recipients_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("signature_recipients_request").on("signature_recipients").columns(["tenant_id", "request_id"]).execute();

    await db.schema
      .createTable("signature_fields")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("request_id", "text", (c) => c.notNull())
      .addColumn("recipient_id", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("page", "integer", (c) => c.notNull())
      .addColumn("x", "double precision", (c) => c.notNull())
      .addColumn("y", "double precision", (c) => c.notNull())
      .addColumn("width", "double precision", (c) => c.notNull())
      .addColumn("height", "double precision", (c) => c.notNull())
      .addColumn("required", "integer", (c) => c.notNull())
      .addColumn("value_ciphertext", binary)
      .addPrimaryKeyConstraint("signature_fields_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("signature_fields_request").on("signature_fields").columns(["tenant_id", "request_id"]).execute();

    await db.schema
      .createTable("signature_evidence")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("request_id", "text", (c) => c.notNull())
      .addColumn("recipient_id", "text")
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("ip", "text")
      .addColumn("user_agent", "text")
      .addPrimaryKeyConstraint("signature_evidence_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("signature_evidence_request").on("signature_evidence").columns(["tenant_id", "request_id", "at"]).execute();

    await db.schema
      .createTable("signing_webhooks")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("url_ciphertext", binary, (c) => c.notNull())
      .addColumn("secret_ciphertext", binary, (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("deleted_at", "text")
      .addPrimaryKeyConstraint("signing_webhooks_pkey", ["tenant_id", "id"])
      .execute();

    await db.schema
      .createTable("signing_webhook_deliveries")
      .addColumn("tenant_id", "text", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("webhook_id", "text", (c) => c.notNull())
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("payload_ciphertext", binary, (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("next_attempt_at", "text")
      .addColumn("last_http_status", "integer")
      .addColumn("last_error", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("delivered_at", "text")
      .addPrimaryKeyConstraint("signing_webhook_deliveries_pkey", ["tenant_id", "id"])
      .execute();
    await db.schema.createIndex("signing_webhook_deliveries_due").on("signing_webhook_deliveries").columns(["status", "next_attempt_at"]).execute();
  },
};
