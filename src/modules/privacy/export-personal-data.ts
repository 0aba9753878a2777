// Everything Strongroom holds about one person, as a streamed tar archive (docs/export-format.md):
// profile, company memberships, sessions, devices, second factors, linked sign-in identities, their
// activity in the audit trail (sign-ins included), and the files and pages they created, every version
// they wrote, in companies they still belong to — only where the company's own rules (membership
// status, address allow-list, admin second-factor rule) and the document rights let them read it now.
import type { Kysely } from "kysely";
import type { UserPrincipal } from "../../http/authenticate.ts";
import type { Readable } from "node:stream";
import type { BlobStore } from "../../store/blob-store.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { openUserField } from "../accounts/user-fields.ts";
import { atLeast, documentLevelWithin, folderLevel, loadDocumentRights, type DocumentRights } from "../documents/document-access.ts";
import { filenameContext, openVersion } from "../documents/document-content.ts";
import { requireTenantAccess } from "../tenants/tenant-access.ts";
import { jsonEntry, jsonLinesEntry, sequenceName, streamArchive } from "./export-archive.ts";
import type { TarEntry } from "./tar-writer.ts";

export type ExportDeps = { db: Kysely<DatabaseSchema>; vault: Vault; blobStore: BlobStore };

export const exportFormatVersion = 1;

// A version's bytes, opened only when the archive reaches them: a stream opened early could fail
// (an erased key, a damaged blob) before anyone listens, and its error would go unhandled.
export async function* openWhenRead(deps: ExportDeps, row: { tenant_id: string; document_id: string; version: number; blob_key: string; sealed_size: number | string }): AsyncGenerator<Buffer> {
  yield* await openVersion(deps, { ...row, sealed_size: Number(row.sealed_size) }, undefined);
}
const pageSize = 500;

export const tenantNameContext = (tenantId: string) => ({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field: "name" });
export const documentTitleContext = (tenantId: string, documentId: string) => ({ tenantId, objectType: "document", objectId: documentId, objectVersion: 1, field: "title" });

export function exportPersonalData(deps: ExportDeps, principal: UserPrincipal, clientIp: string): Readable {
  return streamArchive(personalEntries(deps, principal, clientIp));
}

async function* personalEntries(deps: ExportDeps, principal: UserPrincipal, clientIp: string): AsyncGenerator<TarEntry> {
  const { db, vault } = deps;
  const userId = principal.userId;
  const user = await db.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirstOrThrow();
  yield jsonEntry("manifest.json", { format: "strongroom-personal-export", formatVersion: exportFormatVersion, userId, createdAt: new Date().toISOString() });
  yield jsonEntry("profile.json", {
    id: user.id,
    email: await openUserField(vault, user.id, "email", user.email_ciphertext),
    name: await openUserField(vault, user.id, "name", user.name_ciphertext),
    phone: user.phone_ciphertext ? await openUserField(vault, user.id, "phone", user.phone_ciphertext) : null,
    emailVerifiedAt: user.email_verified_at,
    phoneVerifiedAt: user.phone_verified_at,
    hasPassword: user.password_hash !== null,
    totpEnabledAt: user.totp_enabled_at,
    status: user.status,
    createdAt: user.created_at,
    updatedAt: user.updated_at,
  });

  const memberships = await db.selectFrom("memberships").innerJoin("tenants", "tenants.id", "memberships.tenant_id")
    .select(["memberships.tenant_id", "memberships.role", "memberships.status", "memberships.created_at", "tenants.name_ciphertext"])
    .where("memberships.user_id", "=", userId).orderBy("memberships.created_at").execute();
  yield jsonEntry("memberships.json", await Promise.all(memberships.map(async (row) => ({
    companyId: row.tenant_id,
    companyName: await vault.data.openString(tenantNameContext(row.tenant_id), row.name_ciphertext),
    role: row.role,
    status: row.status,
    joinedAt: row.created_at,
  }))));

  // Metadata only: session and device tokens exist only as keyed hashes and are never exported.
  const sessions = await db.selectFrom("sessions").select(["id", "tenant_id", "second_factor", "ip", "user_agent", "created_at", "last_seen_at", "absolute_expires_at", "revoked_at"])
    .where("user_id", "=", userId).orderBy("created_at").limit(10_000).execute();
  yield jsonEntry("sessions.json", sessions.map((row) => ({
    id: row.id, companyId: row.tenant_id, secondFactor: row.second_factor, ip: row.ip, userAgent: row.user_agent,
    createdAt: row.created_at, lastSeenAt: row.last_seen_at, expiresAt: row.absolute_expires_at, revokedAt: row.revoked_at,
  })));
  const devices = await db.selectFrom("devices").select(["id", "user_agent", "created_at", "last_seen_at", "revoked_at"]).where("user_id", "=", userId).limit(10_000).execute();
  yield jsonEntry("devices.json", devices.map((row) => ({ id: row.id, userAgent: row.user_agent, createdAt: row.created_at, lastSeenAt: row.last_seen_at, revokedAt: row.revoked_at })));
  const passkeys = await db.selectFrom("webauthn_credentials").select(["created_at", "last_used_at", "transports"]).where("user_id", "=", userId).execute();
  const recoveryCodes = await db.selectFrom("recovery_codes").select(["used_at"]).where("user_id", "=", userId).execute();
  yield jsonEntry("second-factors.json", {
    totpEnabledAt: user.totp_enabled_at,
    passkeys: passkeys.map((row) => ({ createdAt: row.created_at, lastUsedAt: row.last_used_at, transports: JSON.parse(row.transports) as unknown })),
    recoveryCodes: { total: recoveryCodes.length, used: recoveryCodes.filter((row) => row.used_at !== null).length },
  });
  const identities = await db.selectFrom("oidc_identities").select(["issuer", "subject", "created_at"]).where("user_id", "=", userId).execute();
  yield jsonEntry("sign-in-identities.json", identities.map((row) => ({ issuer: row.issuer, subject: row.subject, linkedAt: row.created_at })));

  // Their activity: every audit record naming them as actor or subject (sign-ins included).
  let after: { at: string; id: string } | undefined;
  for (let index = 1; ; index++) {
    const cursor = after;
    const rows = await db.selectFrom("audit_records")
      .select(["at", "id", "chain_id", "seq", "tenant_id", "actor_type", "actor_id", "ip", "action", "object", "result", "status", "error_code"])
      .where((eb) => eb.or([eb("actor_id", "=", userId), eb("subject_id", "=", userId)]))
      .$if(cursor !== undefined, (query) => query.where((eb) => eb.or([eb("at", ">", cursor!.at), eb.and([eb("at", "=", cursor!.at), eb("id", ">", cursor!.id)])])))
      .orderBy("at").orderBy("id").limit(pageSize).execute();
    if (rows.length === 0) break;
    yield jsonLinesEntry(sequenceName("activity", index, "jsonl"), rows.map((row) => ({
      at: row.at, id: row.id, companyId: row.tenant_id, actorType: row.actor_type, actorId: row.actor_id, ip: row.ip,
      action: row.action, object: JSON.parse(row.object) as unknown, result: row.result, status: row.status, errorCode: row.error_code,
    })));
    after = { at: rows[rows.length - 1]!.at, id: rows[rows.length - 1]!.id };
    if (rows.length < pageSize) break;
  }

  // Files and pages they created, where the company lets them read them now.
  const skipped: { companyId: string; reason: string }[] = [];
  for (const membership of memberships) {
    const access = await requireTenantAccess(db, principal, membership.tenant_id, "view_tenant", clientIp).catch((error: { code?: string }) => {
      skipped.push({ companyId: membership.tenant_id, reason: error.code ?? "refused" });
      return undefined;
    });
    if (access) yield* documentsCreatedBy(deps, membership.tenant_id, userId, await loadDocumentRights(db, access));
  }
  yield jsonEntry("documents-not-included.json", skipped);
}

async function* documentsCreatedBy(deps: ExportDeps, tenantId: string, userId: string, rights: DocumentRights): AsyncGenerator<TarEntry> {
  const { db, vault } = deps;
  let after = "";
  for (;;) {
    const documents = await db.selectFrom("documents").selectAll().where("tenant_id", "=", tenantId).where("created_by", "=", userId)
      .where("id", ">", after).orderBy("id").limit(pageSize).execute();
    for (const document of documents) {
      if (!atLeast(documentLevelWithin(rights, document.id, await folderLevel(db, tenantId, rights, document.folder_id)), "view")) continue;
      const versions = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", tenantId).where("document_id", "=", document.id)
        .where("created_by", "=", userId).where("state", "=", "complete").orderBy("version").limit(10_000).execute();
      const folder = `documents/${tenantId}/${document.id}`;
      yield jsonEntry(`${folder}/document.json`, {
        companyId: tenantId, id: document.id, kind: document.kind,
        title: await vault.data.openString(documentTitleContext(tenantId, document.id), document.title_ciphertext),
        createdAt: document.created_at, deletedAt: document.deleted_at,
        versions: await Promise.all(versions.map(async (row) => ({
          version: row.version, size: Number(row.size), contentType: row.content_type, createdAt: row.created_at,
          filename: row.filename_ciphertext ? await vault.data.openString(filenameContext(tenantId, document.id, row.version), row.filename_ciphertext) : null,
          file: `${folder}/v${row.version}`,
        }))),
      });
      for (const row of versions) {
        yield {
          name: `${folder}/v${row.version}`, size: Number(row.size), mtime: new Date(row.created_at),
          body: openWhenRead(deps, row),
        };
      }
    }
    if (documents.length < pageSize) break;
    after = documents[documents.length - 1]!.id;
  }
}
