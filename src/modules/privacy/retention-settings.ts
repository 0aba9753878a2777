// A company's retention settings: how long trashed documents stay before they are deleted for good,
// and how many years its audit trail is kept. Null keeps for ever (the default).
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";

export type RetentionSettings = { trashDays: number | null; auditYears: number | null };

export const retentionLimits = { maxTrashDays: 3650, maxAuditYears: 100 } as const;

export async function readRetention(db: Kysely<DatabaseSchema>, tenantId: string): Promise<RetentionSettings> {
  const row = await db.selectFrom("tenant_retention").select(["trash_days", "audit_years"]).where("tenant_id", "=", tenantId).executeTakeFirst();
  return { trashDays: row?.trash_days ?? null, auditYears: row?.audit_years ?? null };
}

export async function writeRetention(db: Kysely<DatabaseSchema>, tenantId: string, settings: RetentionSettings, userId: string): Promise<RetentionSettings> {
  const values = { trash_days: settings.trashDays, audit_years: settings.auditYears, updated_by: userId, updated_at: new Date().toISOString() };
  await db.insertInto("tenant_retention").values({ tenant_id: tenantId, ...values })
    .onConflict((oc) => oc.column("tenant_id").doUpdateSet(values)).execute();
  return settings;
}
