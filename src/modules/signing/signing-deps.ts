// What the signature workflow needs, built once per server: the database, the vault, messages, the
// blob store for final PDFs, the seal (modules/seals), and optional hooks for webhooks and the audit trail.
import type { Kysely } from "kysely";
import type { BlobStore } from "../../store/blob-store.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import type { Logger } from "../../log/logger.ts";
import type { AuditTrail } from "../audit/audit-trail.ts";
import type { MessageSender } from "../messages/message.ts";
import type { SealInput, SealOptions, SealResult } from "../seals/seal-types.ts";
import type { WebhookDeps } from "./signing-webhooks.ts";

export type SealSignedDocument = (input: SealInput, options?: SealOptions) => Promise<SealResult>;

export type SigningDeps = {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  messages: MessageSender;
  blobStore: BlobStore;
  /** Where links in messages point, e.g. https://strongroom.example.com */
  publicUrl: string;
  /** The seal (modules/seals). Without it a request whose signers are done waits, and says so. */
  sealSignedDocument?: SealSignedDocument | undefined;
  /** Request events for the company's webhooks. */
  onRequestEvent?: ((event: SigningEvent) => Promise<void>) | undefined;
  /** Events outside a request (scheduler: reminders, expiry, completion retries). */
  audit?: AuditTrail | undefined;
  /** Seal failures are security events (P4). */
  onSealFailure?: ((tenantId: string, requestId: string) => void) | undefined;
  log?: Logger | undefined;
  /** Retries of queued webhook deliveries run with the schedule. */
  webhooks?: WebhookDeps | undefined;
};

export type SigningEvent = { tenantId: string; requestId: string; event: string; recipientId: string | null; at: string };
