// Sign-in sessions: an opaque 256-bit token in a __Host- cookie, stored only as a keyed hash, with an
// idle and an absolute timeout; users list and revoke their own, and all go on a password change.
import type { Kysely, Selectable } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema, SessionsTable } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newPublicId, newToken, tokenHash } from "./secret-tokens.ts";

export type SessionRow = Selectable<SessionsTable>;
export type SessionTimeouts = { idleMinutes: number; absoluteHours: number };
export const defaultSessionTimeouts: SessionTimeouts = { idleMinutes: 120, absoluteHours: 12 };

type NewSession = { userId: string; tenantId: string | null; deviceId: string | null; secondFactor: string | null; ip: string; userAgent: string };

const touchEveryMs = 60_000;

export function createSessions(db: Kysely<DatabaseSchema>, vault: Vault, timeouts: SessionTimeouts = defaultSessionTimeouts) {
  const minutes = (count: number) => count * 60_000;
  return {
    async create(input: NewSession): Promise<{ token: string; session: SessionRow }> {
      const token = newToken();
      const now = Date.now();
      const absolute = now + minutes(timeouts.absoluteHours * 60);
      const session: SessionRow = {
        id: newPublicId(),
        token_hash: tokenHash(vault, token),
        user_id: input.userId,
        tenant_id: input.tenantId,
        device_id: input.deviceId,
        second_factor: input.secondFactor,
        ip: input.ip,
        user_agent: input.userAgent.slice(0, 512),
        created_at: new Date(now).toISOString(),
        last_seen_at: new Date(now).toISOString(),
        idle_expires_at: new Date(Math.min(now + minutes(timeouts.idleMinutes), absolute)).toISOString(),
        absolute_expires_at: new Date(absolute).toISOString(),
        revoked_at: null,
      };
      await db.insertInto("sessions").values(session).execute();
      return { token, session };
    },

    // The session a token names, if it is still valid; refreshes the idle timeout.
    async resolve(token: string): Promise<SessionRow> {
      const session = await db.selectFrom("sessions").selectAll().where("token_hash", "=", tokenHash(vault, token)).executeTakeFirst();
      if (!session || session.revoked_at) throw new AppError("session_required", "sign in first");
      const now = Date.now();
      if (now >= Date.parse(session.idle_expires_at) || now >= Date.parse(session.absolute_expires_at)) {
        throw new AppError("session_expired", "the session has expired: sign in again");
      }
      if (now - Date.parse(session.last_seen_at) > touchEveryMs) {
        const idle = new Date(Math.min(now + minutes(timeouts.idleMinutes), Date.parse(session.absolute_expires_at))).toISOString();
        await db.updateTable("sessions").set({ last_seen_at: new Date(now).toISOString(), idle_expires_at: idle }).where("id", "=", session.id).execute();
        session.idle_expires_at = idle;
      }
      return session;
    },

    listActive(userId: string): Promise<SessionRow[]> {
      return db.selectFrom("sessions").selectAll().where("user_id", "=", userId).where("revoked_at", "is", null)
        .where("absolute_expires_at", ">", new Date().toISOString()).orderBy("created_at", "desc").limit(100).execute();
    },

    async revoke(userId: string, sessionId: string): Promise<boolean> {
      const result = await db.updateTable("sessions").set({ revoked_at: new Date().toISOString() })
        .where("id", "=", sessionId).where("user_id", "=", userId).where("revoked_at", "is", null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async revokeAll(userId: string, exceptSessionId?: string): Promise<number> {
      let query = db.updateTable("sessions").set({ revoked_at: new Date().toISOString() }).where("user_id", "=", userId).where("revoked_at", "is", null);
      if (exceptSessionId) query = query.where("id", "!=", exceptSessionId);
      return Number((await query.executeTakeFirst()).numUpdatedRows);
    },

    async setTenant(sessionId: string, tenantId: string): Promise<void> {
      await db.updateTable("sessions").set({ tenant_id: tenantId }).where("id", "=", sessionId).execute();
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
