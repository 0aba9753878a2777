// What the identity commands need, built once per server from the runtime.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import type { MessageSender } from "../messages/message.ts";
import { createSecurityEvents, type SecurityEvents } from "../monitoring/security-events.ts";
import { createDevices, type Devices } from "./devices.ts";
import { createSessions, type Sessions, type SessionTimeouts } from "./sessions.ts";

export type IdentityDeps = {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  messages: MessageSender;
  sessions: Sessions;
  devices: Devices;
  /** Where links in messages point, e.g. https://strongroom.example.com */
  publicUrl: string;
  events: SecurityEvents;
};

export function createIdentityDeps(input: {
  db: Kysely<DatabaseSchema>;
  vault: Vault;
  messages: MessageSender;
  publicUrl: string;
  sessionTimeouts?: SessionTimeouts;
  events?: SecurityEvents;
}): IdentityDeps {
  return {
    ...input,
    events: input.events ?? createSecurityEvents(),
    sessions: createSessions(input.db, input.vault, input.sessionTimeouts),
    devices: createDevices(input.db, input.vault),
  };
}
