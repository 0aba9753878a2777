// What the operator sign-in and the operator API need, built once per server.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { createOperatorSessions, type OperatorSessions, type OperatorSessionTimeouts } from "./operator-sessions.ts";

export type OperatorDeps = { db: Kysely<DatabaseSchema>; vault: Vault; sessions: OperatorSessions };

export function createOperatorDeps(input: { db: Kysely<DatabaseSchema>; vault: Vault; sessionTimeouts?: OperatorSessionTimeouts }): OperatorDeps {
  return { db: input.db, vault: input.vault, sessions: createOperatorSessions(input.db, input.vault, input.sessionTimeouts) };
}
