// Typed view of the database tables for Kysely; one source of truth for column types on both dialects.
// Binary columns read back as Buffer (a Uint8Array) and 64-bit integer columns as JS numbers on both dialects.

import type { Generated } from "kysely";

export type VaultSealTable = {
  /** Always 1: the installation has exactly one seal record. */
  id: number;
  installation_id: string;
  threshold: number;
  share_count: number;
  root_key_ciphertext: Uint8Array;
  created_at: string;
  updated_at: string;
};

export type VaultKeyringTable = {
  /** Always 1: the installation has exactly one keyring. */
  id: number;
  revision: number;
  ciphertext: Uint8Array;
  updated_at: string;
};

export type TenantKeyState = "active" | "retired";

export type TenantKeysTable = {
  tenant_id: string;
  version: number;
  keyring_term: number;
  wrapped_key: Uint8Array;
  uses_reserved: Generated<number>;
  state: TenantKeyState;
  created_at: string;
};

export type TenantsTable = {
  /** JSON array of CIDRs; empty means no restriction. */
  ip_allowlist: Generated<string>;
  require_admin_mfa: Generated<number>;
  oidc_allowed: Generated<number>;
  id: string;
  name_ciphertext: Uint8Array;
  created_at: string;
};

export type BlobObjectsTable = {
  tenant_id: string;
  id: string;
  blob_key: string;
  size: number;
  created_at: string;
};

export type Role = "owner" | "admin" | "member" | "viewer";

export type UsersTable = {
  id: string;
  email_index: string;
  email_ciphertext: Uint8Array;
  name_ciphertext: Uint8Array;
  password_hash: string | null;
  email_verified_at: string | null;
  phone_ciphertext: Uint8Array | null;
  phone_verified_at: string | null;
  totp_secret_ciphertext: Uint8Array | null;
  totp_enabled_at: string | null;
  /** The last TOTP time step used to sign in: a code is good once. */
  totp_last_step: Generated<number | null>;
  status: Generated<"active" | "disabled">;
  created_at: string;
  updated_at: string;
};

export type MembershipsTable = {
  tenant_id: string;
  user_id: string;
  role: Role;
  status: Generated<"active" | "suspended">;
  created_at: string;
};

export type GroupsTable = { tenant_id: string; id: string; name_ciphertext: Uint8Array; created_at: string };
export type GroupMembersTable = { tenant_id: string; group_id: string; user_id: string };

export type InvitationsTable = {
  tenant_id: string;
  id: string;
  token_hash: string;
  email_index: string;
  email_ciphertext: Uint8Array;
  role: Role;
  invited_by: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
  created_at: string;
};

export type DevicesTable = {
  id: string;
  user_id: string;
  user_agent: string;
  created_at: string;
  last_seen_at: string;
  revoked_at: string | null;
};

export type SessionsTable = {
  id: string;
  token_hash: string;
  user_id: string;
  tenant_id: string | null;
  device_id: string | null;
  second_factor: string | null;
  ip: string;
  user_agent: string;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
  revoked_at: string | null;
};

export type LoginChallengesTable = {
  id: string;
  token_hash: string;
  user_id: string;
  code_hash: string;
  channel: string;
  attempts: Generated<number>;
  ip: string;
  expires_at: string;
  consumed_at: string | null;
  created_at: string;
  /** When the code went out; users with a stronger factor get it only on request. */
  code_sent_at: Generated<string | null>;
};

export type OneTimeLinksTable = {
  token_hash: string;
  purpose: "password_reset" | "email_verification";
  user_id: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
};

export type RecoveryCodesTable = { user_id: string; code_hash: string; used_at: string | null };

export type WebauthnCredentialsTable = {
  credential_id: string;
  user_id: string;
  public_key: Uint8Array;
  counter: Generated<number>;
  transports: Generated<string>;
  created_at: string;
  last_used_at: Generated<string | null>;
};

export type WebauthnChallengesTable = {
  id: string;
  challenge_hash: string;
  purpose: "registration" | "authentication";
  user_id: string;
  session_id: string | null;
  login_challenge_id: string | null;
  expires_at: string;
  consumed_at: string | null;
  created_at: string;
};

export type OidcIdentitiesTable = { issuer: string; subject: string; user_id: string; created_at: string };

export type OidcLoginAttemptsTable = {
  state_hash: string;
  binding_hash: string;
  provider_id: string;
  tenant_hint: string | null;
  ip: string;
  expires_at: string;
  consumed_at: string | null;
  created_at: string;
};

export type ApiKeysTable = {
  id: string;
  tenant_id: string;
  secret_hash: string;
  name_ciphertext: Uint8Array;
  scopes: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  created_at: string;
};

export type OperatorsTable = {
  id: string;
  username: string;
  password_hash: string;
  totp_secret_ciphertext: Uint8Array;
  created_at: string;
  disabled_at: string | null;
  /** The last TOTP time step used to sign in: a code for it or an earlier step is refused. */
  totp_last_step: number | null;
};

export type OperatorSessionsTable = {
  id: string;
  token_hash: string;
  operator_id: string;
  ip: string;
  user_agent: string;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
  revoked_at: string | null;
};

export type MessageOutboxTable = {
  id: string;
  channel: "email" | "sms";
  purpose: string;
  message_ciphertext: Uint8Array;
  created_at: string;
};

export type AuditRecordsTable = {
  chain_id: string;
  seq: number;
  id: string;
  at: string;
  tenant_id: string | null;
  actor_type: "user" | "api_key" | "operator" | "anonymous" | "system";
  actor_id: string | null;
  ip: string;
  action: string;
  object: string;
  details: string;
  request_id: string | null;
  record_hash: string;
  result: string;
  status: number | null;
  error_code: string | null;
  subject_id: string | null;
  result_hash: string | null;
};

export type AuditChainHeadsTable = { chain_id: string; seq: number; record_hash: string };

export type AuditCheckpointsTable = { chain_id: string; seq: number; record_hash: string; at: string; key_id: string; signature: string };

export type ServiceKeysTable = {
  id: string;
  algorithm: string;
  public_key_pem: string;
  private_key_ciphertext: Uint8Array;
  created_at: string;
  retired_at: string | null;
};

export type PhoneVerificationsTable = {
  user_id: string;
  phone_ciphertext: Uint8Array;
  code_hash: string;
  attempts: Generated<number>;
  expires_at: string;
  created_at: string;
};

export type AlertChannelsTable = {
  tenant_id: string;
  id: string;
  kind: "webhook" | "email";
  target_ciphertext: Uint8Array;
  secret_ciphertext: Uint8Array | null;
  /** JSON array of event types; empty means every type. */
  event_types: string;
  created_by: string;
  created_at: string;
  deleted_at: string | null;
};

export type AlertDeliveriesTable = {
  id: string;
  /** Null for the operator's channels. */
  tenant_id: string | null;
  channel_id: string;
  channel_kind: "webhook" | "email";
  event_id: string;
  event_type: string;
  attempt: number;
  outcome: "delivered" | "retrying" | "failed";
  http_status: number | null;
  error: string | null;
  at: string;
};

export type FoldersTable = {
  tenant_id: string;
  id: string;
  parent_id: string | null;
  name_ciphertext: Uint8Array;
  created_by: string;
  created_at: string;
  deleted_at: string | null;
};

export type DocumentsTable = {
  tenant_id: string;
  id: string;
  folder_id: string | null;
  kind: "file" | "page";
  title_ciphertext: Uint8Array;
  current_version: Generated<number>;
  created_by: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};

export type DocumentVersionsTable = {
  tenant_id: string;
  document_id: string;
  version: number;
  blob_key: string;
  size: Generated<number>;
  sealed_size: Generated<number>;
  content_type: string;
  filename_ciphertext: Uint8Array | null;
  created_by: string;
  created_at: string;
  state: "uploading" | "complete";
};

export type Permission = "view" | "edit" | "manage";

export type GrantsTable = {
  tenant_id: string;
  resource_type: "folder" | "document";
  resource_id: string;
  principal_type: "user" | "group";
  principal_id: string;
  permission: Permission;
  created_by: string;
  created_at: string;
};

// A blind index row: an HMAC of a word or prefix (never the word) found in a document's title or text.
export type SearchTokensTable = { tenant_id: string; token_hash: string; recency: number; document_id: string };

// A link sharing one document outside the company: token and PIN only as keyed hashes.
export type DocumentSharesTable = {
  tenant_id: string;
  id: string;
  document_id: string;
  token_hash: string;
  pin_hash: string | null;
  pin_attempts: Generated<number>;
  locked_at: string | null;
  recipient_ciphertext: Uint8Array | null;
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
  download_count: Generated<number>;
  last_download_at: string | null;
};

// A company's time-limited permission for one named operator to read its documents.
export type SupportAccessGrantsTable = {
  tenant_id: string;
  id: string;
  operator_id: string;
  reason_ciphertext: Uint8Array | null;
  granted_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
};

// A request to sign one version of a PDF document; the final PDF and the seal once completed.
export type SignatureRequestStatus = "draft" | "sent" | "completed" | "cancelled" | "declined" | "expired";
export type SignatureRequestsTable = {
  tenant_id: string;
  id: string;
  document_id: string;
  document_version: number;
  created_by: string;
  title_ciphertext: Uint8Array;
  message_ciphertext: Uint8Array | null;
  signing_order: "parallel" | "sequential";
  status: SignatureRequestStatus;
  expires_at: string;
  reminder_days: number | null;
  created_at: string;
  sent_at: string | null;
  /** When it was completed, cancelled, declined or expired. */
  finished_at: string | null;
  final_blob_key: string | null;
  final_size: number | null;
  final_sealed_size: number | null;
  seal_sha256: string | null;
  seal_ciphertext: Uint8Array | null;
};

export type SignatureRecipientRole = "signer" | "approver" | "viewer";
export type SignatureRecipientStatus = "waiting" | "sent" | "signed" | "declined" | "cc";
// One recipient: contact details sealed; link token and PIN only as keyed hashes.
export type SignatureRecipientsTable = {
  tenant_id: string;
  id: string;
  request_id: string;
  role: SignatureRecipientRole;
  order_index: number;
  status: SignatureRecipientStatus;
  contact_ciphertext: Uint8Array;
  token_hash: string | null;
  pin_hash: string | null;
  pin_failures: Generated<number>;
  locked_at: string | null;
  notified_at: string | null;
  reminded_at: string | null;
  consent_at: string | null;
  signed_at: string | null;
  declined_at: string | null;
  decline_reason_ciphertext: Uint8Array | null;
  signed_ip: string | null;
  signed_user_agent: string | null;
};

export type SignatureFieldsTable = {
  tenant_id: string;
  id: string;
  request_id: string;
  recipient_id: string;
  kind: "signature" | "initials" | "date" | "text" | "checkbox";
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
  required: number;
  value_ciphertext: Uint8Array | null;
};

export type SignatureEvidenceTable = {
  tenant_id: string;
  id: string;
  request_id: string;
  recipient_id: string | null;
  event: string;
  at: string;
  ip: string | null;
  user_agent: string | null;
};

export type SigningWebhooksTable = {
  tenant_id: string;
  id: string;
  url_ciphertext: Uint8Array;
  secret_ciphertext: Uint8Array;
  created_by: string;
  created_at: string;
  deleted_at: string | null;
};

export type SigningWebhookDeliveriesTable = {
  tenant_id: string;
  id: string;
  webhook_id: string;
  event: string;
  payload_ciphertext: Uint8Array;
  attempts: Generated<number>;
  status: "pending" | "delivered" | "failed";
  next_attempt_at: string | null;
  last_http_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
};

// Generated PAdES signing identities (dev default); operator-supplied ones live in files.
export type DocumentSigningKeysTable = {
  id: string;
  certificate_pem: string;
  private_key_ciphertext: Uint8Array;
  not_after: string;
  created_at: string;
  retired_at: string | null;
};

export type TransparencyLogTable = {
  log_index: number;
  leaf_hash: string;
  appended_at: string;
};

export type TransparencyTreeHeadsTable = {
  tree_size: number;
  root_hash: string;
  signed_at: string;
  key_id: string;
  signature: string;
};

export type SealsTable = {
  tenant_id: string;
  request_id: string;
  sha256: string;
  cms_sha256: string;
  log_index: number;
  sealed_at: string;
  record_ciphertext: Uint8Array;
};

export type BackupBlobDigestsTable = {
  store_key: string;
  size: number;
  sha256: string;
  recorded_at: string;
};

export type BackupLeasesTable = {
  name: string;
  holder: string | null;
  expires_at: string | null;
  last_slot: string | null;
};

// Key owners whose keys were destroyed (crypto-shredding): a restored older copy destroys them again.
export type VaultShreddedKeyOwnersTable = { key_owner: string; shredded_at: string };

// A company's retention settings; null keeps for ever.
export type TenantRetentionTable = { tenant_id: string; trash_days: number | null; audit_years: number | null; updated_by: string; updated_at: string };

// Where an audit chain resumes after retention removed its oldest records (signed by the service key).
export type AuditPruneAnchorsTable = { chain_id: string; seq: number; record_hash: string; at: string; key_id: string; signature: string };

export type DatabaseSchema = {
  vault_shredded_key_owners: VaultShreddedKeyOwnersTable;
  tenant_retention: TenantRetentionTable;
  audit_prune_anchors: AuditPruneAnchorsTable;
  document_signing_keys: DocumentSigningKeysTable;
  transparency_log: TransparencyLogTable;
  transparency_tree_heads: TransparencyTreeHeadsTable;
  seals: SealsTable;
  signature_requests: SignatureRequestsTable;
  signature_recipients: SignatureRecipientsTable;
  signature_fields: SignatureFieldsTable;
  signature_evidence: SignatureEvidenceTable;
  signing_webhooks: SigningWebhooksTable;
  signing_webhook_deliveries: SigningWebhookDeliveriesTable;
  backup_blob_digests: BackupBlobDigestsTable;
  backup_leases: BackupLeasesTable;
  document_shares: DocumentSharesTable;
  support_access_grants: SupportAccessGrantsTable;
  search_tokens: SearchTokensTable;
  folders: FoldersTable;
  documents: DocumentsTable;
  document_versions: DocumentVersionsTable;
  grants: GrantsTable;
  alert_channels: AlertChannelsTable;
  alert_deliveries: AlertDeliveriesTable;
  phone_verifications: PhoneVerificationsTable;
  audit_records: AuditRecordsTable;
  audit_chain_heads: AuditChainHeadsTable;
  audit_checkpoints: AuditCheckpointsTable;
  service_keys: ServiceKeysTable;
  users: UsersTable;
  memberships: MembershipsTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  invitations: InvitationsTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  login_challenges: LoginChallengesTable;
  one_time_links: OneTimeLinksTable;
  recovery_codes: RecoveryCodesTable;
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
  oidc_identities: OidcIdentitiesTable;
  oidc_login_attempts: OidcLoginAttemptsTable;
  api_keys: ApiKeysTable;
  operators: OperatorsTable;
  operator_sessions: OperatorSessionsTable;
  message_outbox: MessageOutboxTable;
  vault_seal: VaultSealTable;
  vault_keyring: VaultKeyringTable;
  tenant_keys: TenantKeysTable;
  tenants: TenantsTable;
  blob_objects: BlobObjectsTable;
};
