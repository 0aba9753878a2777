// Operator sessions, apart from company users' sessions: a 256-bit token in its own __Host- cookie,
// stored only as a keyed hash, with a short idle (30 min) and absolute (4 h) lifetime. A disabled
// operator's sessions stop working at once.
import type { Kysely, Selectable } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema, OperatorSessionsTable } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newPublicId, newToken, tokenHash } from "../auth/secret-tokens.ts";

export type OperatorSessionRow = Selectable<OperatorSessionsTable>;
export type OperatorSessionTimeouts = { idleMinutes: number; absoluteHours: number };
export const operatorSessionTimeouts: OperatorSessionTimeouts = { idleMinutes: 30, absoluteHours: 4 };

const touchEveryMs = 60_000;
const maxTokenLength = 100;

export type ResolvedOperatorSession = { session: OperatorSessionRow; operator: { id: string; username: string; createdAt: string } };

export function createOperatorSessions(db: Kysely<DatabaseSchema>, vault: Vault, timeouts: OperatorSessionTimeouts = operatorSessionTimeouts) {
  const minutes = (count: number) => count * 60_000;
  return {
    async create(input: { operatorId: string; ip: string; userAgent: string }): Promise<{ token: string; session: OperatorSessionRow }> {
      const token = newToken();
      const now = Date.now();
      const absolute = now + minutes(timeouts.absoluteHours * 60);
      const session: OperatorSessionRow = {
        id: newPublicId(),
        token_hash: tokenHash(vault, token),
        operator_id: input.operatorId,
        ip: input.ip,
        user_agent: input.userAgent.slice(0, 512),
        created_at: new Date(now).toISOString(),
        last_seen_at: new Date(now).toISOString(),
        idle_expires_at: new Date(Math.min(now + minutes(timeouts.idleMinutes), absolute)).toISOString(),
        absolute_expires_at: new Date(absolute).toISOString(),
        revoked_at: null,
      };
      await db.insertInto("operator_sessions").values(session).execute();
      return { token, session };
    },

    // The session a token names if it is still valid and its operator is not disabled; refreshes the idle timeout.
    async resolve(token: string): Promise<ResolvedOperatorSession> {
      if (token.length === 0 || token.length > maxTokenLength) throw new AppError("session_required", "operator sign-in required");
      const row = await db.selectFrom("operator_sessions")
        .innerJoin("operators", "operators.id", "operator_sessions.operator_id")
        .selectAll("operator_sessions")
        .select(["operators.username", "operators.created_at as operator_created_at", "operators.disabled_at"])
        .where("operator_sessions.token_hash", "=", tokenHash(vault, token))
        .executeTakeFirst();
      if (!row || row.revoked_at || row.disabled_at) throw new AppError("session_required", "operator sign-in required");
      const now = Date.now();
      if (now >= Date.parse(row.idle_expires_at) || now >= Date.parse(row.absolute_expires_at)) {
        throw new AppError("session_expired", "the operator session has expired: sign in again");
      }
      const { username, operator_created_at: operatorCreatedAt, disabled_at: _disabled, ...session } = row;
      if (now - Date.parse(session.last_seen_at) > touchEveryMs) {
        const idle = new Date(Math.min(now + minutes(timeouts.idleMinutes), Date.parse(session.absolute_expires_at))).toISOString();
        const seen = new Date(now).toISOString();
        await db.updateTable("operator_sessions").set({ last_seen_at: seen, idle_expires_at: idle }).where("id", "=", session.id).execute();
        session.last_seen_at = seen;
        session.idle_expires_at = idle;
      }
      return { session, operator: { id: session.operator_id, username, createdAt: operatorCreatedAt } };
    },

    async revoke(sessionId: string): Promise<void> {
      await db.updateTable("operator_sessions").set({ revoked_at: new Date().toISOString() }).where("id", "=", sessionId).where("revoked_at", "is", null).execute();
    },
  };
}

export type OperatorSessions = ReturnType<typeof createOperatorSessions>;
