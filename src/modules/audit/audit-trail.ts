// The audit trail as the server uses it: every request to an audited route gets exactly one record,
// appended BEFORE the handler runs (if it cannot be written, the action is refused) and completed with
// the result before the answer leaves (if that fails, the answer is withheld). Events outside requests
// (unseal, background work) are appended whole.
import { appendFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { Principal } from "../../http/authenticate.ts";
import { isSecretFieldName, type Logger } from "../../log/logger.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import type { SecurityEvents } from "../monitoring/security-events.ts";
import { createAuditRepository } from "./audit-repository.ts";
import { checkpointMessage, type AuditDetails, type AuditEntry, type AuditResult } from "./audit-record.ts";

export type AuditTrailOptions = {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  log: Logger;
  // A copy of every completed record as JSON lines outside the database.
  copyFile?: string | undefined;
  checkpointEvery?: number;
  events?: SecurityEvents | undefined;
  /** The embedded database's file, when the trail is kept there: its writes then get a thread of their own. */
  sqliteFile?: string | undefined;
};

// A read is recorded whole when it ends (before any data leaves); a write is appended before it runs
// and completed when it ends.
type Pending = {
  appended: { chainId: string; seq: number; recordHash: string } | undefined;
  entry: AuditEntry;
  details: AuditDetails;
  subjectId: string | null;
};

const readMethods = new Set(["GET", "HEAD"]);

const pendingByRequest = new WeakMap<FastifyRequest, Pending>();

// Public metadata and the unseal door (which must work while the vault, and so the trail, is sealed).
const unaudited = new Set(["/v1/sys/health", "/v1/sys/seal-status", "/v1/sys/unseal", "/v1/openapi.json"]);

export function isAuditedRoute(url: string | undefined): boolean {
  return Boolean(url?.startsWith("/v1/")) && !unaudited.has(url!);
}

export function addAuditDetails(request: FastifyRequest, details: AuditDetails): void {
  const pending = pendingByRequest.get(request);
  if (pending) Object.assign(pending.details, details);
}

export function setAuditSubject(request: FastifyRequest, subjectId: string): void {
  const pending = pendingByRequest.get(request);
  if (pending) pending.subjectId = subjectId;
}

// Whom a request concerns when its path cannot say it: a public share link names its company only once
// the link is looked up, and a support read is made by an operator, not a company principal. It must be
// set before the record is written: for a write before preValidation (an onRequest hook), for a read at
// any time before the answer. It changes the record; it never adds one.
type Attribution = { tenantId?: string; operatorId?: string };
const attributionByRequest = new WeakMap<FastifyRequest, Attribution>();

export function setAuditTenant(request: FastifyRequest, tenantId: string): void {
  attribute(request, { tenantId });
}

export function setAuditOperator(request: FastifyRequest, operatorId: string): void {
  attribute(request, { operatorId });
}

function attribute(request: FastifyRequest, change: Attribution): void {
  const pending = pendingByRequest.get(request);
  if (pending?.appended) throw new Error("the audit record of this request is already written: attribute it before preValidation");
  attributionByRequest.set(request, { ...attributionByRequest.get(request), ...change });
  if (pending) attributeEntry(request, pending.entry, change);
}

function attributeEntry(request: FastifyRequest, entry: AuditEntry, attribution: Attribution | undefined): void {
  // A company named in the path is never overridden.
  if (attribution?.tenantId && typeof (request.params as Record<string, unknown> | undefined)?.tenantId !== "string") entry.tenantId = attribution.tenantId;
  if (attribution?.operatorId) Object.assign(entry, { actorType: "operator", actorId: attribution.operatorId });
}

export function createAuditTrail(options: AuditTrailOptions) {
  const repository = createAuditRepository(options.db, options.vault, { sqliteFile: options.sqliteFile });
  const checkpointEvery = options.checkpointEvery ?? 100;

  async function copyOut(entry: AuditEntry, chainId: string, seq: number, result: AuditResult): Promise<void> {
    if (!options.copyFile) return;
    await appendFile(options.copyFile, `${JSON.stringify({ chainId, seq, ...entry, ...result })}\n`, { mode: 0o600 });
  }

  async function checkpointIfDue(chainId: string, seq: number, recordHash: string): Promise<void> {
    if (seq % checkpointEvery !== 0) return;
    const at = new Date().toISOString();
    const signed = await options.vault.serviceKey.sign(checkpointMessage(chainId, seq, recordHash, at));
    await repository.checkpoint({ chain_id: chainId, seq, record_hash: recordHash, at, key_id: signed.keyId, signature: signed.signature });
  }

  async function tenantChainFor(request: FastifyRequest, principal: Principal | undefined): Promise<string | null> {
    const tenantId = (request.params as Record<string, unknown> | undefined)?.tenantId;
    if (typeof tenantId === "string" && tenantId.length <= 64) {
      // A key's own company was read with the key; any other id in a path must name a real company.
      if (principal?.kind === "api_key" && principal.tenantId === tenantId) return tenantId;
      const exists = await options.db.selectFrom("tenants").select("id").where("id", "=", tenantId).executeTakeFirst();
      return exists ? tenantId : null;
    }
    if (principal?.kind === "api_key") return principal.tenantId;
    return null;
  }

  function entryFor(request: FastifyRequest, principal: Principal | undefined, tenantId: string | null): AuditEntry {
    const object: Record<string, string> = {};
    // A secret in the path (a share link's token) is never stored.
    for (const [key, value] of Object.entries((request.params as Record<string, unknown>) ?? {})) object[key] = isSecretFieldName(key) ? "[redacted]" : String(value).slice(0, 200);
    const entry: AuditEntry = {
      id: randomUUID(),
      at: new Date().toISOString(),
      tenantId,
      actorType: principal ? (principal.kind === "user" ? "user" : "api_key") : "anonymous",
      actorId: principal ? (principal.kind === "user" ? principal.userId : principal.keyId) : null,
      ip: request.ip,
      action: `${request.method} ${request.routeOptions.url ?? "?"}`,
      object,
      requestId: request.id,
    };
    attributeEntry(request, entry, attributionByRequest.get(request));
    return entry;
  }

  return {
    async record(entry: Omit<AuditEntry, "id" | "at">, result: AuditResult): Promise<void> {
      const full = { ...entry, id: randomUUID(), at: new Date().toISOString() };
      const appended = await repository.append(full, result);
      await copyOut(full, appended.chainId, appended.seq, result);
      await checkpointIfDue(appended.chainId, appended.seq, appended.recordHash).catch((error: unknown) => options.log.error({ err: error }, "audit checkpoint failed"));
    },

    // preValidation hook, after the caller is identified.
    async begin(request: FastifyRequest, principal: Principal | undefined): Promise<void> {
      if (!isAuditedRoute(request.routeOptions.url)) return;
      try {
        const entry = entryFor(request, principal, await tenantChainFor(request, principal));
        const appended = readMethods.has(request.method) ? undefined : await repository.append(entry);
        pendingByRequest.set(request, { appended, entry, details: {}, subjectId: null });
      } catch (error) {
        options.log.error({ err: error, event: "audit_write_failed" }, "audit record could not be written: refusing the request");
        options.events?.emit({ type: "audit_write_failure", tenantId: null, ip: request.ip, details: { stage: "begin", action: `${request.method} ${request.routeOptions.url ?? "?"}` } });
        throw new AppError("audit_unavailable", "the audit trail cannot be written, so the request is refused");
      }
    },

    // onSend hook: completes the record; if that fails, the answer is withheld.
    async finish(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
      const pending = pendingByRequest.get(request);
      if (!pending) return payload;
      pendingByRequest.delete(request);
      const status = reply.statusCode;
      const errorCode = status >= 400 ? errorCodeOf(payload) : null;
      const result: AuditResult = {
        result: status < 400 ? "ok" : [401, 403, 404, 409, 429].includes(status) ? "denied" : "error",
        status,
        errorCode,
        subjectId: pending.subjectId,
        details: pending.details,
      };
      let appended = pending.appended;
      try {
        if (appended) await repository.finish(appended.chainId, appended.seq, appended.recordHash, result);
        else appended = await repository.append(pending.entry, result);
        await copyOut(pending.entry, appended.chainId, appended.seq, result);
      } catch (error) {
        options.log.error({ err: error, event: "audit_write_failed" }, "audit record could not be completed: withholding the answer");
        options.events?.emit({ type: "audit_write_failure", tenantId: null, ip: request.ip, details: { stage: "finish", action: pending.entry.action } });
        if (payload && typeof (payload as { destroy?: () => void }).destroy === "function") (payload as { destroy: () => void }).destroy();
        reply.code(503).type("application/json; charset=utf-8");
        reply.removeHeader("content-length");
        reply.removeHeader("content-disposition");
        return JSON.stringify({ error: "audit_unavailable", message: "the audit trail cannot be written, so the answer is withheld" });
      }
      await checkpointIfDue(appended.chainId, appended.seq, appended.recordHash).catch((error: unknown) => options.log.error({ err: error }, "audit checkpoint failed"));
      return payload;
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;

function errorCodeOf(payload: unknown): string | null {
  if (typeof payload !== "string" || payload.length > 4096) return null;
  try {
    const parsed = JSON.parse(payload) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error.slice(0, 64) : null;
  } catch {
    return null;
  }
}

export function registerAuditHooks(app: FastifyInstance, trail: AuditTrail, identify: (request: FastifyRequest) => Promise<Principal | undefined>): void {
  app.addHook("preValidation", async (request) => {
    await trail.begin(request, await identify(request));
  });
  app.addHook("onSend", (request, reply, payload) => trail.finish(request, reply, payload));
}
