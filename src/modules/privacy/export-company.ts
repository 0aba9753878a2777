// A whole company as a streamed tar archive (docs/export-format.md): settings, members and groups,
// folders, every document and page with all versions and their files, grants, share-link metadata and
// the company's audit trail. Read page by page, so memory stays bounded at any company size.
import type { Readable } from "node:stream";
import { openUserField } from "../accounts/user-fields.ts";
import { filenameContext } from "../documents/document-content.ts";
import { jsonEntry, jsonLinesEntry, sequenceName, streamArchive } from "./export-archive.ts";
import { documentTitleContext, exportFormatVersion, openWhenRead, tenantNameContext, type ExportDeps } from "./export-personal-data.ts";
import { readRetention } from "./retention-settings.ts";
import type { TarEntry } from "./tar-writer.ts";
import { exportSignatureRequests } from "./export-signatures.ts";

/**
 * More of a company for its export, added by modules that keep company records of their own (the
 * signature workflow adds its requests and seals here). Entry names must start with the section's
 * own folder, e.g. "signatures/".
 */
export type CompanyExportSection = (deps: ExportDeps, tenantId: string) => AsyncIterable<TarEntry>;

const pageSize = 500;
const folderNameContext = (tenantId: string, folderId: string) => ({ tenantId, objectType: "folder", objectId: folderId, objectVersion: 1, field: "name" });
const groupNameContext = (tenantId: string, groupId: string) => ({ tenantId, objectType: "group", objectId: groupId, objectVersion: 1, field: "name" });

// Sections every company export has; more can be passed in.
const builtInSections: readonly CompanyExportSection[] = [(deps, tenantId) => exportSignatureRequests(deps, tenantId)];

export function exportCompany(deps: ExportDeps, tenantId: string, sections: readonly CompanyExportSection[] = []): Readable {
  return streamArchive(companyEntries(deps, tenantId, [...builtInSections, ...sections]));
}

async function* companyEntries(deps: ExportDeps, tenantId: string, sections: readonly CompanyExportSection[]): AsyncGenerator<TarEntry> {
  const { db, vault } = deps;
  const tenant = await db.selectFrom("tenants").selectAll().where("id", "=", tenantId).executeTakeFirstOrThrow();
  yield jsonEntry("manifest.json", { format: "strongroom-company-export", formatVersion: exportFormatVersion, companyId: tenantId, createdAt: new Date().toISOString() });

  const members = await db.selectFrom("memberships").innerJoin("users", "users.id", "memberships.user_id")
    .select(["memberships.user_id", "memberships.role", "memberships.status", "memberships.created_at", "users.email_ciphertext", "users.name_ciphertext"])
    .where("memberships.tenant_id", "=", tenantId).orderBy("memberships.created_at").execute();
  const groups = await db.selectFrom("groups").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute();
  const groupMembers = await db.selectFrom("group_members").selectAll().where("tenant_id", "=", tenantId).execute();
  yield jsonEntry("company.json", {
    id: tenantId,
    name: await vault.data.openString(tenantNameContext(tenantId), tenant.name_ciphertext),
    createdAt: tenant.created_at,
    settings: { ipAllowlist: JSON.parse(tenant.ip_allowlist) as unknown, requireAdminMfa: Boolean(tenant.require_admin_mfa), oidcAllowed: Boolean(tenant.oidc_allowed) },
    retention: await readRetention(db, tenantId),
    members: await Promise.all(members.map(async (row) => ({
      userId: row.user_id,
      email: await openUserField(vault, row.user_id, "email", row.email_ciphertext).catch(() => null),
      name: await openUserField(vault, row.user_id, "name", row.name_ciphertext).catch(() => null),
      role: row.role, status: row.status, joinedAt: row.created_at,
    }))),
    groups: await Promise.all(groups.map(async (group) => ({
      id: group.id,
      name: await vault.data.openString(groupNameContext(tenantId, group.id), group.name_ciphertext),
      members: groupMembers.filter((row) => row.group_id === group.id).map((row) => row.user_id),
    }))),
  });

  let afterFolder = "";
  for (let index = 1; ; index++) {
    const folders = await db.selectFrom("folders").selectAll().where("tenant_id", "=", tenantId).where("id", ">", afterFolder).orderBy("id").limit(pageSize).execute();
    if (folders.length === 0) break;
    yield jsonEntry(sequenceName("folders", index, "json"), await Promise.all(folders.map(async (row) => ({
      id: row.id, parentId: row.parent_id, name: await vault.data.openString(folderNameContext(tenantId, row.id), row.name_ciphertext),
      createdBy: row.created_by, createdAt: row.created_at, deletedAt: row.deleted_at,
    }))));
    if (folders.length < pageSize) break;
    afterFolder = folders[folders.length - 1]!.id;
  }

  let afterDocument = "";
  for (;;) {
    const documents = await db.selectFrom("documents").selectAll().where("tenant_id", "=", tenantId).where("id", ">", afterDocument).orderBy("id").limit(pageSize).execute();
    for (const document of documents) {
      const versions = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", tenantId).where("document_id", "=", document.id)
        .where("state", "=", "complete").orderBy("version").limit(100_000).execute();
      const grants = await db.selectFrom("grants").selectAll().where("tenant_id", "=", tenantId).where("resource_type", "=", "document").where("resource_id", "=", document.id).execute();
      const shares = await db.selectFrom("document_shares").select(["id", "created_by", "created_at", "expires_at", "revoked_at", "download_count", "last_download_at", "pin_hash"])
        .where("tenant_id", "=", tenantId).where("document_id", "=", document.id).execute();
      const folder = `documents/${document.id}`;
      yield jsonEntry(`${folder}/document.json`, {
        id: document.id, kind: document.kind, folderId: document.folder_id,
        title: await vault.data.openString(documentTitleContext(tenantId, document.id), document.title_ciphertext),
        currentVersion: document.current_version, createdBy: document.created_by, createdAt: document.created_at, updatedAt: document.updated_at, deletedAt: document.deleted_at,
        versions: await Promise.all(versions.map(async (row) => ({
          version: row.version, size: Number(row.size), contentType: row.content_type, createdBy: row.created_by, createdAt: row.created_at,
          filename: row.filename_ciphertext ? await vault.data.openString(filenameContext(tenantId, document.id, row.version), row.filename_ciphertext) : null,
          file: `${folder}/v${row.version}`,
        }))),
        grants: grants.map((row) => ({ principalType: row.principal_type, principalId: row.principal_id, permission: row.permission, createdBy: row.created_by, createdAt: row.created_at })),
        // Link tokens and PINs exist only as keyed hashes and are never exported.
        shareLinks: shares.map((row) => ({
          id: row.id, createdBy: row.created_by, createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at,
          hasPin: row.pin_hash !== null, downloads: Number(row.download_count), lastDownloadAt: row.last_download_at,
        })),
      });
      for (const row of versions) {
        yield {
          name: `${folder}/v${row.version}`, size: Number(row.size), mtime: new Date(row.created_at),
          body: openWhenRead(deps, row),
        };
      }
    }
    if (documents.length < pageSize) break;
    afterDocument = documents[documents.length - 1]!.id;
  }

  const folderGrants = await db.selectFrom("grants").selectAll().where("tenant_id", "=", tenantId).where("resource_type", "=", "folder").limit(100_000).execute();
  yield jsonEntry("folder-grants.json", folderGrants.map((row) => ({
    folderId: row.resource_id, principalType: row.principal_type, principalId: row.principal_id, permission: row.permission, createdBy: row.created_by, createdAt: row.created_at,
  })));

  // The company's audit chain, in order, with the hashes that let `strongroom audit verify` check it.
  let afterSeq = 0;
  for (let index = 1; ; index++) {
    const rows = await db.selectFrom("audit_records").selectAll().where("chain_id", "=", tenantId).where("seq", ">", afterSeq).orderBy("seq").limit(pageSize).execute();
    if (rows.length === 0) break;
    yield jsonLinesEntry(sequenceName("audit", index, "jsonl"), rows.map((row) => ({
      seq: Number(row.seq), id: row.id, at: row.at, actorType: row.actor_type, actorId: row.actor_id, ip: row.ip, action: row.action,
      object: JSON.parse(row.object) as unknown, result: row.result, status: row.status, errorCode: row.error_code, subjectId: row.subject_id,
      details: JSON.parse(row.details) as unknown, recordHash: row.record_hash, resultHash: row.result_hash,
    })));
    if (rows.length < pageSize) break;
    afterSeq = Number(rows[rows.length - 1]!.seq);
  }

  for (const section of sections) yield* section(deps, tenantId);
}
