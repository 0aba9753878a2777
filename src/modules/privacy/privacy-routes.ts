// GDPR in the API: a person downloads or erases their own data (/v1/me/…); a company owner exports or
// erases the company, or erases a member who belongs to no other company; admins set retention; every
// member sees the register of sub-processors. Exports are tar archives streamed as they are read.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { clearSessionCookie } from "../../http/cookies.ts";
import { type Authenticator, principalOf, userOf } from "../../http/authenticate.ts";
import type { Kysely } from "kysely";
import type { BlobStore } from "../../store/blob-store.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { addAuditDetails, setAuditSubject } from "../audit/audit-trail.ts";
import { emailIndexOf } from "../accounts/user-fields.ts";
import { requireTenantAccess, type TenantAccess } from "../tenants/tenant-access.ts";
import type { TenantAction } from "../tenants/tenant-policy.ts";
import { eraseCompany } from "./erase-company.ts";
import { eraseUser } from "./erase-user.ts";
import type { SecurityEvents } from "../monitoring/security-events.ts";
import { exportCompany, type CompanyExportSection } from "./export-company.ts";
import { exportPersonalData, tenantNameContext } from "./export-personal-data.ts";
import type { SubProcessor } from "./privacy-config.ts";
import { readRetention, retentionLimits, writeRetention } from "./retention-settings.ts";

export type PrivacyRouteDeps = {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  blobStore: BlobStore;
  subProcessors: readonly SubProcessor[];
  companyExportSections?: readonly CompanyExportSection[];
  /** Security events: a company export is raised as a mass download. */
  events?: SecurityEvents | undefined;
};

type TenantParams = { tenantId: string };
const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const tenantParams = { type: "object", properties: { tenantId: id }, required: ["tenantId"] } as const;
const body = (properties: Record<string, unknown>, required: string[]) => ({ type: "object", additionalProperties: false, properties, required }) as const;
const nullableInteger = (maximum: number) => ({ anyOf: [{ type: "integer", minimum: 1, maximum }, { type: "null" }] });

function sendArchive(reply: FastifyReply, filename: string, archive: NodeJS.ReadableStream) {
  // A failure half-way (a blob that cannot be read or opened) ends the connection at once: the
  // archive is then visibly cut off (no closing blocks, no last checksums), never left hanging.
  archive.on("error", (error: Error) => {
    reply.log.error({ err: error, event: "export_failed" }, "export stopped half-way; the archive was cut off");
    reply.raw.destroy();
  });
  reply.header("content-type", "application/x-tar");
  reply.header("content-disposition", `attachment; filename="${filename}"`);
  reply.header("cache-control", "no-store");
  return reply.send(archive);
}

export async function registerPrivacyRoutes(app: FastifyInstance, deps: PrivacyRouteDeps, auth: Authenticator): Promise<void> {
  const { db, vault } = deps;
  const access = (request: FastifyRequest<{ Params: TenantParams }>, action: TenantAction) =>
    requireTenantAccess(db, principalOf(request), request.params.tenantId, action, request.ip);
  const person = (granted: TenantAccess) => {
    if (granted.principal.kind !== "user") throw new AppError("forbidden", "this action needs a signed-in person, not an API key");
    return granted.principal.userId;
  };
  const today = () => new Date().toISOString().slice(0, 10);

  app.get("/v1/me/export", { preHandler: auth.requireUser }, async (request, reply) => {
    return sendArchive(reply, `strongroom-personal-data-${today()}.tar`, exportPersonalData(deps, userOf(request), request.ip));
  });

  app.post<{ Body: { confirmEmail: string } }>("/v1/me/erasure", {
    preHandler: auth.requireUser,
    schema: { body: body({ confirmEmail: { type: "string", minLength: 3, maxLength: 254 } }, ["confirmEmail"]) },
  }, async (request, reply) => {
    const { userId } = userOf(request);
    const user = await db.selectFrom("users").select("email_index").where("id", "=", userId).executeTakeFirstOrThrow();
    if (!vault.macMatches("email-index", request.body.confirmEmail.trim().toLowerCase(), user.email_index)) {
      throw new AppError("confirmation_mismatch", "type your own e-mail address to confirm that your account is to be erased");
    }
    const erased = await eraseUser(deps, userId);
    addAuditDetails(request, { keysDestroyed: erased.keysDestroyed });
    // Erasure cannot be undone: whoever runs the installation hears of every one, as they happen.
    deps.events?.emit({ type: "data_erased", tenantId: null, ip: request.ip, userId, details: { scope: "account", erasedUserId: userId, keysDestroyed: erased.keysDestroyed } });
    clearSessionCookie(reply);
    return { status: "erased" };
  });

  app.post<{ Params: TenantParams }>("/v1/tenants/:tenantId/export", {
    preHandler: auth.requirePrincipal, schema: { params: tenantParams },
  }, async (request, reply) => {
    const granted = await access(request, "export_company");
    const userId = person(granted);
    // The whole company leaving in one archive is the largest download there is: its alert channels
    // hear of it at once, not only after a count of single downloads.
    deps.events?.emit({ type: "mass_download", tenantId: granted.tenantId, ip: request.ip, userId, details: { principalId: userId, export: "company" } });
    return sendArchive(reply, `strongroom-company-${granted.tenantId}-${today()}.tar`, exportCompany(deps, granted.tenantId, deps.companyExportSections));
  });

  app.post<{ Params: TenantParams; Body: { companyName: string } }>("/v1/tenants/:tenantId/erasure", {
    preHandler: auth.requirePrincipal,
    schema: { params: tenantParams, body: body({ companyName: { type: "string", minLength: 1, maxLength: 500 } }, ["companyName"]) },
  }, async (request) => {
    const granted = await access(request, "erase_company");
    person(granted);
    const tenant = await db.selectFrom("tenants").select("name_ciphertext").where("id", "=", granted.tenantId).executeTakeFirstOrThrow();
    const name = await vault.data.openString(tenantNameContext(granted.tenantId), tenant.name_ciphertext);
    if (request.body.companyName.trim() !== name.trim()) {
      throw new AppError("confirmation_mismatch", "type the company's exact name to confirm that it is to be erased");
    }
    const erased = await eraseCompany(deps, granted.tenantId);
    addAuditDetails(request, { keysDestroyed: erased.keysDestroyed, blobsDeleted: erased.blobsDeleted });
    // The company's own alert channels went with it: the operator's channels hear of it.
    deps.events?.emit({
      type: "data_erased", tenantId: null, ip: request.ip, userId: person(granted),
      details: { scope: "company", erasedTenantId: granted.tenantId, keysDestroyed: erased.keysDestroyed, blobsDeleted: erased.blobsDeleted },
    });
    return { status: "erased" };
  });

  app.post<{ Params: TenantParams & { userId: string }; Body: { confirm: "erase" } }>("/v1/tenants/:tenantId/members/:userId/erasure", {
    preHandler: auth.requirePrincipal,
    schema: {
      params: { type: "object", properties: { tenantId: id, userId: id }, required: ["tenantId", "userId"] },
      body: body({ confirm: { type: "string", enum: ["erase"] } }, ["confirm"]),
    },
  }, async (request) => {
    const granted = await access(request, "erase_members");
    const actor = person(granted);
    const member = await db.selectFrom("memberships").select("user_id").where("tenant_id", "=", granted.tenantId).where("user_id", "=", request.params.userId).executeTakeFirst();
    if (!member) throw new AppError("not_found", "no such member");
    if (member.user_id === actor) throw new AppError("conflict", "to erase your own account use /v1/me/erasure");
    const elsewhere = await db.selectFrom("memberships").select("tenant_id").where("user_id", "=", member.user_id).where("tenant_id", "!=", granted.tenantId).limit(1).executeTakeFirst();
    if (elsewhere) throw new AppError("conflict", "this person also belongs to another company: remove them from this company instead; only they can erase their account");
    setAuditSubject(request, member.user_id);
    const erased = await eraseUser(deps, member.user_id);
    addAuditDetails(request, { keysDestroyed: erased.keysDestroyed });
    deps.events?.emit({ type: "data_erased", tenantId: granted.tenantId, ip: request.ip, userId: actor, details: { scope: "member", erasedUserId: member.user_id, keysDestroyed: erased.keysDestroyed } });
    return { status: "erased" };
  });

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/retention", { preHandler: auth.requirePrincipal, schema: { params: tenantParams } }, async (request) => {
    const granted = await access(request, "manage_settings");
    return readRetention(db, granted.tenantId);
  });

  app.put<{ Params: TenantParams; Body: { trashDays: number | null; auditYears: number | null } }>("/v1/tenants/:tenantId/retention", {
    preHandler: auth.requirePrincipal,
    schema: {
      params: tenantParams,
      body: body({ trashDays: nullableInteger(retentionLimits.maxTrashDays), auditYears: nullableInteger(retentionLimits.maxAuditYears) }, ["trashDays", "auditYears"]),
    },
  }, async (request) => {
    const granted = await access(request, "manage_settings");
    const actor = granted.principal.kind === "user" ? granted.principal.userId : granted.principal.keyId;
    return writeRetention(db, granted.tenantId, { trashDays: request.body.trashDays, auditYears: request.body.auditYears }, actor);
  });

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/sub-processors", { preHandler: auth.requirePrincipal, schema: { params: tenantParams } }, async (request) => {
    await access(request, "view_tenant");
    return { subProcessors: deps.subProcessors };
  });
}
