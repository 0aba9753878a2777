// Errors are values with a stable machine-readable code; http/error-mapping.ts turns codes into HTTP statuses.

export type ErrorCode =
  | "bad_request"
  | "seal_input_invalid"
  | "invalid_json"
  | "validation_failed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "not_found"
  | "route_not_found"
  | "method_not_allowed"
  | "forbidden"
  | "ip_not_allowed"
  | "unauthorized"
  | "conflict"
  | "too_many_requests"
  | "sealed"
  | "not_initialized"
  | "already_initialized"
  | "already_unsealed"
  | "share_malformed"
  | "share_foreign_installation"
  | "share_repeated"
  | "unseal_failed"
  | "decrypt_failed"
  | "stream_truncated"
  | "range_not_satisfiable"
  | "key_not_found"
  | "config_invalid"
  | "storage_failed"
  | "delivery_failed"
  | "dev_share_missing"
  | "blob_not_found"
  | "blob_key_invalid"
  | "internal_error"
  | "audit_unavailable"
  | "rate_limit_unavailable"
  | "password_too_weak"
  | "invalid_credentials"
  | "email_unverified"
  | "code_invalid"
  | "code_locked"
  | "code_expired"
  | "code_reused"
  | "passkey_invalid"
  | "second_factor_required"
  | "second_factor_unavailable"
  | "link_invalid"
  | "oidc_state_invalid"
  | "oidc_failed"
  | "oidc_email_unverified"
  | "oidc_no_account"
  | "oidc_not_allowed"
  | "oidc_provider_unavailable"
  | "session_required"
  | "session_expired"
  | "csrf_failed"
  | "account_suspended"
  | "insufficient_scope"
  | "api_key_invalid"
  | "malware_detected"
  | "scanner_unavailable"
  | "scan_too_large"
  | "pin_required"
  | "pin_invalid"
  | "pin_locked"
  | "not_your_turn"
  | "consent_required"
  | "fields_incomplete"
  | "signing_closed"
  | "backup_failed"
  | "backup_corrupt"
  | "backup_busy"
  | "restore_target_not_empty"
  | "confirmation_mismatch";

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
