// The retention sweep, run by a timer on every node (each step is idempotent, so nodes may overlap):
// finishes company erasures a stopped server left half-done, drops the audit chains of erased
// companies, deletes documents that have been in a company's trash longer than it keeps them, and
// removes audit records older than its audit retention. The clock is injected so tests can move time.
import type { Kysely } from "kysely";
import { dropAuditChain, pruneAuditChain } from "../audit/prune-audit-chain.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import { removeCompanyData, type ErasureDeps } from "./erase-company.ts";

export type RetentionDeps = ErasureDeps & {
  now: () => Date;
  /**
   * Keeps the shred list beside the backups (every destination's `shredded/…`), so that a restore of
   * an older backup destroys these keys again. Called for every entry on each sweep (idempotent).
   */
  recordShredded?: ((keyOwner: string, shreddedAt: string) => Promise<void>) | undefined;
};

export type RetentionReport = { erasuresFinished: number; auditChainsDropped: number; documentsPurged: number; auditRecordsPruned: number };

const dayMs = 86_400_000;
// The erasure request's own audit record is completed after the erasure: leave the chain that long.
const erasedChainGraceMs = 60 * 60 * 1000;
const batch = 500;

export async function enforceRetention(deps: RetentionDeps): Promise<RetentionReport> {
  const { db, vault } = deps;
  const now = deps.now();
  const report: RetentionReport = { erasuresFinished: 0, auditChainsDropped: 0, documentsPurged: 0, auditRecordsPruned: 0 };

  for (const entry of await vault.tenantKeys.shredList()) {
    await deps.recordShredded?.(entry.keyOwner, entry.shreddedAt);
    if (entry.keyOwner.startsWith("user:")) continue;
    const tenant = await db.selectFrom("tenants").select("id").where("id", "=", entry.keyOwner).executeTakeFirst();
    if (tenant) {
      await removeCompanyData(deps, entry.keyOwner);
      report.erasuresFinished += 1;
    }
    if (Date.parse(entry.shreddedAt) <= now.getTime() - erasedChainGraceMs) {
      const head = await db.selectFrom("audit_chain_heads").select("chain_id").where("chain_id", "=", entry.keyOwner).executeTakeFirst();
      if (head) {
        await dropAuditChain(db, entry.keyOwner);
        report.auditChainsDropped += 1;
      }
    }
  }

  const settings = await db.selectFrom("tenant_retention").selectAll()
    .where((eb) => eb.or([eb("trash_days", "is not", null), eb("audit_years", "is not", null)])).execute();
  for (const setting of settings) {
    if (setting.trash_days !== null) {
      const cutoff = new Date(now.getTime() - setting.trash_days * dayMs).toISOString();
      report.documentsPurged += await purgeTrash(deps, setting.tenant_id, cutoff);
    }
    if (setting.audit_years !== null) {
      const cutoff = new Date(now);
      cutoff.setUTCFullYear(cutoff.getUTCFullYear() - setting.audit_years);
      report.auditRecordsPruned += await pruneAuditChain(db, vault, setting.tenant_id, cutoff.toISOString(), now);
    }
  }
  return report;
}

async function purgeTrash(deps: RetentionDeps, tenantId: string, trashedBefore: string): Promise<number> {
  const { db, blobStore } = deps;
  let purged = 0;
  for (;;) {
    const documents = await db.selectFrom("documents").select("id").where("tenant_id", "=", tenantId)
      .where("deleted_at", "is not", null).where("deleted_at", "<", trashedBefore).limit(batch).execute();
    for (const { id: documentId } of documents) {
      const versions = await db.selectFrom("document_versions").select("blob_key").where("tenant_id", "=", tenantId).where("document_id", "=", documentId).execute();
      for (const version of versions) await blobStore.delete(version.blob_key);
      await deleteDocumentRows(db, tenantId, documentId);
      purged += 1;
    }
    if (documents.length < batch) break;
  }
  return purged;
}

async function deleteDocumentRows(db: Kysely<DatabaseSchema>, tenantId: string, documentId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("search_tokens").where("tenant_id", "=", tenantId).where("document_id", "=", documentId).execute();
    await trx.deleteFrom("document_shares").where("tenant_id", "=", tenantId).where("document_id", "=", documentId).execute();
    await trx.deleteFrom("document_versions").where("tenant_id", "=", tenantId).where("document_id", "=", documentId).execute();
    await trx.deleteFrom("grants").where("tenant_id", "=", tenantId).where("resource_type", "=", "document").where("resource_id", "=", documentId).execute();
    await trx.deleteFrom("documents").where("tenant_id", "=", tenantId).where("id", "=", documentId).execute();
  });
}

// Runs the sweep now and then every intervalMs; a failed sweep is logged and tried again next time.
export function startRetentionTimer(deps: RetentionDeps, intervalMs: number): { stop(): void } {
  let running = false;
  const sweep = async () => {
    if (running || deps.vault.isSealed()) return;
    running = true;
    try {
      const report = await enforceRetention(deps);
      if (Object.values(report).some((count) => count > 0)) deps.log?.info({ event: "retention_sweep", ...report }, "retention sweep removed expired data");
    } catch (error) {
      deps.log?.error({ err: error, event: "retention_sweep_failed" }, "retention sweep failed; it runs again at the next interval");
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void sweep(), 10_000);
  const timer = setInterval(() => void sweep(), intervalMs);
  first.unref();
  timer.unref();
  return { stop() { clearTimeout(first); clearInterval(timer); } };
}
