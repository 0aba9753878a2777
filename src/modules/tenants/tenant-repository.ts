// SQL for companies and their memberships. Every query names the tenant it is scoped to.
import type { Kysely, Selectable } from "kysely";
import { writeAndAnnounce } from "../../store/change-notices.ts";
import type { DatabaseSchema, MembershipsTable, Role } from "../../store/schema.ts";

export type MembershipRow = Selectable<MembershipsTable>;

export function createTenantRepository(db: Kysely<DatabaseSchema>) {
  return {
    async membership(tenantId: string, userId: string): Promise<MembershipRow | undefined> {
      return db.selectFrom("memberships").selectAll().where("tenant_id", "=", tenantId).where("user_id", "=", userId).executeTakeFirst();
    },
    membershipsOfUser(userId: string): Promise<MembershipRow[]> {
      return db.selectFrom("memberships").selectAll().where("user_id", "=", userId).orderBy("created_at").limit(500).execute();
    },
    members(tenantId: string): Promise<MembershipRow[]> {
      return db.selectFrom("memberships").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").limit(10_000).execute();
    },
    async addMember(tenantId: string, userId: string, role: Role): Promise<void> {
      await db.insertInto("memberships").values({ tenant_id: tenantId, user_id: userId, role, created_at: new Date().toISOString() }).execute();
    },
    async setRole(tenantId: string, userId: string, role: Role): Promise<void> {
      await db.updateTable("memberships").set({ role }).where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
    },
    async setStatus(tenantId: string, userId: string, status: "active" | "suspended"): Promise<void> {
      await db.updateTable("memberships").set({ status }).where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
    },
    async removeMember(tenantId: string, userId: string): Promise<void> {
      await db.deleteFrom("group_members").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
      await db.deleteFrom("memberships").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
    },
    async countOwners(tenantId: string): Promise<number> {
      const row = await db.selectFrom("memberships").select((eb) => eb.fn.countAll<number>().as("count"))
        .where("tenant_id", "=", tenantId).where("role", "=", "owner").where("status", "=", "active").executeTakeFirstOrThrow();
      return Number(row.count);
    },
    async setIpAllowlist(tenantId: string, cidrs: string[]): Promise<void> {
      await writeAndAnnounce(db, "tenant", tenantId, async (trx) => {
        await trx.updateTable("tenants").set({ ip_allowlist: JSON.stringify(cidrs) }).where("id", "=", tenantId).execute();
      });
    },
  };
}

export type TenantRepository = ReturnType<typeof createTenantRepository>;
