// Known browsers: a long-lived cookie holding a device id signed with a vault key. A sign-in from a
// browser without a valid cookie for that user is a new device and needs a one-time code.
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, DevicesTable } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newPublicId } from "./secret-tokens.ts";

export type DeviceRow = Selectable<DevicesTable>;

export function deviceCookieValue(vault: Vault, deviceId: string): string {
  return `${deviceId}.${vault.mac("device-cookie", deviceId)}`;
}

// A device's last sign-in is kept to the minute, like an API key's last use: a burst of sign-ins (or the
// abuse guard recognising the device before the sign-in does) then costs one write, not one each; on
// SQLite every write is a commit with an fsync on the event loop's thread.
const lastSeenEveryMs = 60_000;

export function createDevices(db: Kysely<DatabaseSchema>, vault: Vault) {
  return {
    async recognise(userId: string, cookie: string | undefined): Promise<DeviceRow | undefined> {
      if (!cookie || cookie.length > 200) return undefined;
      const [deviceId, mac] = cookie.split(".");
      if (!deviceId || !mac || !vault.macMatches("device-cookie", deviceId, mac)) return undefined;
      const device = await db.selectFrom("devices").selectAll().where("id", "=", deviceId).where("user_id", "=", userId).executeTakeFirst();
      if (!device || device.revoked_at) return undefined;
      const now = Date.now();
      // False for an unreadable stored time too, which is then rewritten.
      const seenRecently = now - Date.parse(device.last_seen_at) < lastSeenEveryMs;
      if (!seenRecently) {
        await db.updateTable("devices").set({ last_seen_at: new Date(now).toISOString() }).where("id", "=", deviceId).execute();
      }
      return device;
    },

    async register(userId: string, userAgent: string): Promise<DeviceRow> {
      const at = new Date().toISOString();
      const device: DeviceRow = { id: newPublicId(), user_id: userId, user_agent: userAgent.slice(0, 512), created_at: at, last_seen_at: at, revoked_at: null };
      await db.insertInto("devices").values(device).execute();
      return device;
    },

    list(userId: string): Promise<DeviceRow[]> {
      return db.selectFrom("devices").selectAll().where("user_id", "=", userId).where("revoked_at", "is", null).orderBy("last_seen_at", "desc").limit(100).execute();
    },

    async revoke(userId: string, deviceId: string): Promise<boolean> {
      const result = await db.updateTable("devices").set({ revoked_at: new Date().toISOString() })
        .where("id", "=", deviceId).where("user_id", "=", userId).where("revoked_at", "is", null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export type Devices = ReturnType<typeof createDevices>;
