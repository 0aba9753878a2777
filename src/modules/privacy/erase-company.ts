// Erasing a company: its keys are destroyed first (crypto-shredding: from that moment nothing of it
// opens, on this database, its replicas and — once the shred list is applied — any restored backup),
// then its stored objects and rows go. Rows are found by their tenant_id column in every table, so
// tables added later by other modules go too, and so do stored objects under the company's prefix
// t/<tenantId>/ (the convention for every module's blobs). If the server stops half-way, the
// retention sweep finishes the job (the company is on the shred list).
import type { Kysely } from "kysely";
import type { Logger } from "../../log/logger.ts";
import type { BlobStore } from "../../store/blob-store.ts";
import { announceChange } from "../../store/change-notices.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";

export type ErasureDeps = { db: Kysely<DatabaseSchema>; vault: Vault; blobStore: BlobStore; log?: Logger | undefined };

// Children before parents; every other table with a tenant_id column follows.
const knownOrder = [
  "search_tokens", "document_shares", "support_access_grants", "grants", "document_versions", "documents", "folders",
  "group_members", "groups", "invitations", "api_keys", "alert_deliveries", "alert_channels", "memberships", "tenant_retention", "blob_objects",
];
// The keys went through the vault; the audit chain is removed by the retention sweep once the
// erasure's own record is complete; sessions belong to people and only forget the company.
const handledElsewhere = new Set(["tenants", "tenant_keys", "audit_records", "sessions"]);
const batch = 500;

export async function eraseCompany(deps: ErasureDeps, tenantId: string): Promise<{ keysDestroyed: number; blobsDeleted: number }> {
  await announceChange(deps.db, "tenant", tenantId);
  const keysDestroyed = await deps.vault.tenantKeys.destroy(tenantId);
  const blobsDeleted = await removeCompanyData(deps, tenantId);
  return { keysDestroyed, blobsDeleted };
}

export async function removeCompanyData(deps: ErasureDeps, tenantId: string): Promise<number> {
  const { db, blobStore } = deps;
  let blobsDeleted = 0;
  // Stored objects first: a row is the only pointer to its blob.
  for (;;) {
    const versions = await db.selectFrom("document_versions").select(["document_id", "version", "blob_key"]).where("tenant_id", "=", tenantId).limit(batch).execute();
    for (const row of versions) {
      await blobStore.delete(row.blob_key);
      await db.deleteFrom("document_versions").where("tenant_id", "=", tenantId).where("document_id", "=", row.document_id).where("version", "=", row.version).execute();
      blobsDeleted += 1;
    }
    if (versions.length < batch) break;
  }
  for (;;) {
    const objects = await db.selectFrom("blob_objects").select(["id", "blob_key"]).where("tenant_id", "=", tenantId).limit(batch).execute();
    for (const row of objects) {
      await blobStore.delete(row.blob_key);
      await db.deleteFrom("blob_objects").where("tenant_id", "=", tenantId).where("id", "=", row.id).execute();
      blobsDeleted += 1;
    }
    if (objects.length < batch) break;
  }

  // Anything else a module stored for the company lives under its prefix (documents use t/<id>/d/…).
  if (/^[a-z0-9][a-z0-9_.-]*$/.test(tenantId)) {
    for await (const key of blobStore.list(`t/${tenantId}/`)) {
      await blobStore.delete(key);
      blobsDeleted += 1;
    }
  }

  const tables = (await db.introspection.getTables())
    .filter((table) => table.columns.some((column) => column.name === "tenant_id") && !handledElsewhere.has(table.name))
    .map((table) => table.name);
  const ordered = [...knownOrder.filter((name) => tables.includes(name)), ...tables.filter((name) => !knownOrder.includes(name)).sort()];
  // A table added by another module may reference another: a few passes settle any order.
  let remaining = ordered;
  for (let pass = 0; pass < 4 && remaining.length > 0; pass++) {
    const failed: string[] = [];
    for (const table of remaining) {
      try {
        await (db as unknown as Kysely<Record<string, { tenant_id: string }>>).deleteFrom(table).where("tenant_id", "=", tenantId).execute();
      } catch (error) {
        failed.push(table);
        if (pass === 3) deps.log?.error({ err: error, table }, "company erasure could not remove rows of a table");
      }
    }
    remaining = failed;
  }
  if (remaining.length > 0) throw new Error(`company erasure left rows in: ${remaining.join(", ")}`);
  await db.updateTable("sessions").set({ tenant_id: null }).where("tenant_id", "=", tenantId).execute();
  await db.deleteFrom("tenants").where("id", "=", tenantId).execute();
  // Drops the company and its API keys from every node's caches (they may have been read again while
  // the rows were going).
  await announceChange(db, "tenant", tenantId);
  return blobsDeleted;
}
