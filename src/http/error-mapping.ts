// The one place where error codes become HTTP statuses. Clients always get JSON `{ error, message }`,
// never a stack trace; unexpected errors become a generic 500 and are logged.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, isAppError } from "../errors/app-error.ts";

const statusByCode: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  confirmation_mismatch: 400,
  share_malformed: 400,
  share_foreign_installation: 400,
  share_repeated: 400,
  unseal_failed: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  session_required: 401,
  session_expired: 401,
  api_key_invalid: 401,
  password_too_weak: 400,
  code_invalid: 400,
  code_expired: 400,
  link_invalid: 400,
  email_unverified: 403,
  csrf_failed: 403,
  account_suspended: 403,
  insufficient_scope: 403,
  code_locked: 429,
  code_reused: 400,
  passkey_invalid: 400,
  second_factor_unavailable: 400,
  second_factor_required: 403,
  oidc_state_invalid: 400,
  oidc_failed: 401,
  oidc_email_unverified: 403,
  oidc_no_account: 403,
  oidc_not_allowed: 403,
  oidc_provider_unavailable: 502,
  forbidden: 403,
  ip_not_allowed: 403,
  not_found: 404,
  route_not_found: 404,
  key_not_found: 404,
  blob_not_found: 404,
  blob_key_invalid: 400,
  method_not_allowed: 405,
  conflict: 409,
  already_initialized: 409,
  already_unsealed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  decrypt_failed: 422,
  stream_truncated: 422,
  seal_input_invalid: 422,
  too_many_requests: 429,
  internal_error: 500,
  audit_unavailable: 503,
  rate_limit_unavailable: 503,
  storage_failed: 500,
  delivery_failed: 502,
  dev_share_missing: 409,
  config_invalid: 500,
  not_initialized: 503,
  sealed: 503,
  malware_detected: 422,
  scanner_unavailable: 503,
  scan_too_large: 413,
  pin_required: 401,
  pin_invalid: 401,
  pin_locked: 403,
  not_your_turn: 409,
  consent_required: 409,
  fields_incomplete: 400,
  signing_closed: 409,
  backup_failed: 502,
  backup_corrupt: 422,
  backup_busy: 409,
  restore_target_not_empty: 409,
};

export function httpStatusOf(code: ErrorCode): number {
  return statusByCode[code] ?? 500;
}

export type ErrorBody = { error: string; message: string; details?: Record<string, unknown> };

export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (isAppError(error)) {
    const body: ErrorBody = { error: error.code, message: error.message };
    if (error.details) body.details = error.details;
    return { status: httpStatusOf(error.code), body };
  }
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, body: { error: "invalid_json", message: "the request body is not valid JSON" } };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, body: { error: "payload_too_large", message: "the request body is larger than allowed" } };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, body: { error: "unsupported_media_type", message: "the request content type is not supported" } };
    case "FST_ERR_VALIDATION":
      return { status: 400, body: { error: "validation_failed", message: fastifyError.message ?? "the request is not valid" } };
  }
  if (error instanceof SyntaxError) {
    return { status: 400, body: { error: "invalid_json", message: "the request body is not valid JSON" } };
  }
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { status, body: { error: "bad_request", message: "the request could not be processed" } };
  }
  return { status: 500, body: { error: "internal_error", message: "an internal error occurred" } };
}

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = toErrorResponse(error);
  if (status >= 500 && body.error === "internal_error") request.log.error({ err: error }, "request failed");
  else request.log.info({ code: body.error, status }, "request refused");
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: "route_not_found", message: `no route for ${request.method} ${request.url.split("?")[0]}` });
}
