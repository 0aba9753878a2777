// Reading the trail: company admins browse, filter and export their company's records (CSV or JSON
// lines); every user sees their own sign-in history.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Selectable } from "kysely";
import { type Authenticator, principalOf, userOf } from "../../http/authenticate.ts";
import type { AuditRecordsTable } from "../../store/schema.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";

type AuditRow = Selectable<AuditRecordsTable>;
type AuditQuery = { actor?: string; action?: string; from?: string; to?: string; before?: number; limit?: number };

const pageLimit = 500;
const exportLimit = 100_000;
const signInActions = [
  "POST /v1/auth/login", "POST /v1/auth/login/code", "POST /v1/auth/login/totp", "POST /v1/auth/login/recovery-code",
  "POST /v1/auth/login/passkey/verify", "GET /v1/auth/oidc/:providerId/callback",
];

export function presentAuditRecord(row: AuditRow) {
  return {
    id: row.id,
    seq: Number(row.seq),
    at: row.at,
    actor: { type: row.actor_type, id: row.actor_id },
    subjectId: row.subject_id,
    ip: row.ip,
    action: row.action,
    object: JSON.parse(row.object) as Record<string, string>,
    details: JSON.parse(row.details) as Record<string, unknown>,
    result: row.result,
    status: row.status,
    errorCode: row.error_code,
  };
}

export async function registerAuditRoutes(app: FastifyInstance, deps: IdentityDeps, auth: Authenticator): Promise<void> {
  const query = {
    type: "object",
    additionalProperties: false,
    properties: {
      actor: { type: "string", maxLength: 64 },
      action: { type: "string", maxLength: 200 },
      from: { type: "string", format: "date-time" },
      to: { type: "string", format: "date-time" },
      before: { type: "string", pattern: "^[0-9]{1,15}$" },
      limit: { type: "string", pattern: "^[0-9]{1,4}$" },
    },
  } as const;
  const params = { type: "object", properties: { tenantId: { type: "string", minLength: 1, maxLength: 64 } }, required: ["tenantId"] } as const;

  const select = (tenantId: string, filters: AuditQuery, limit: number) => {
    let builder = deps.db.selectFrom("audit_records").selectAll().where("chain_id", "=", tenantId);
    if (filters.actor) builder = builder.where("actor_id", "=", filters.actor);
    if (filters.action) builder = builder.where("action", "=", filters.action);
    if (filters.from) builder = builder.where("at", ">=", filters.from);
    if (filters.to) builder = builder.where("at", "<", filters.to);
    if (filters.before) builder = builder.where("seq", "<", Number(filters.before));
    return builder.orderBy("seq", "desc").limit(limit);
  };

  app.get<{ Params: { tenantId: string }; Querystring: AuditQuery }>("/v1/tenants/:tenantId/audit", {
    preHandler: auth.requirePrincipal, schema: { params, querystring: query },
  }, async (request) => {
    const granted = await requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "view_audit", request.ip);
    const limit = Math.min(Number(request.query.limit ?? 100), pageLimit);
    const rows = await select(granted.tenantId, request.query, limit).execute();
    return { records: rows.map(presentAuditRecord), next: rows.length === limit ? Number(rows[rows.length - 1]!.seq) : null };
  });

  app.get<{ Params: { tenantId: string }; Querystring: AuditQuery & { format?: "csv" | "jsonl" } }>("/v1/tenants/:tenantId/audit/export", {
    preHandler: auth.requirePrincipal,
    schema: { params, querystring: { ...query, properties: { ...query.properties, format: { type: "string", enum: ["csv", "jsonl"] } } } },
  }, async (request, reply) => {
    const granted = await requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, "view_audit", request.ip);
    const rows = (await select(granted.tenantId, request.query, exportLimit).execute()).reverse().map(presentAuditRecord);
    const format = request.query.format ?? "jsonl";
    reply.header("content-disposition", `attachment; filename="audit-${granted.tenantId}.${format}"`);
    if (format === "jsonl") return reply.type("application/x-ndjson").send(rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length ? "\n" : ""));
    const header = ["seq", "at", "actor_type", "actor_id", "subject_id", "ip", "action", "object", "result", "status", "error_code", "details"];
    const lines = rows.map((row) => [row.seq, row.at, row.actor.type, row.actor.id, row.subjectId, row.ip, row.action, JSON.stringify(row.object), row.result, row.status, row.errorCode, JSON.stringify(row.details)].map(csvField).join(","));
    return reply.type("text/csv; charset=utf-8").send([header.join(","), ...lines].join("\r\n") + "\r\n");
  });

  app.get("/v1/auth/sign-ins", { preHandler: auth.requireUser }, async (request: FastifyRequest) => {
    const { userId } = userOf(request);
    const rows = await deps.db.selectFrom("audit_records").selectAll().where("subject_id", "=", userId)
      .where("action", "in", signInActions).orderBy("at", "desc").limit(100).execute();
    return { signIns: rows.map((row) => ({ at: row.at, ip: row.ip, result: row.result, errorCode: row.error_code, action: row.action })) };
  });
}

// Quotes every field and defuses spreadsheet formulas (=, +, -, @ at the start).
function csvField(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}
