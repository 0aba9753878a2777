// A company's alert channels: stored with the target and the webhook secret sealed under the company's
// key, at most maxChannelsPerTenant alive, deleted softly (the secret is wiped) so that delivery records
// keep pointing at something. Every query is scoped to the company.
import type { Kysely } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { Vault } from "../../vault/vault.ts";
import { newPublicId } from "../auth/secret-tokens.ts";
import type { AlertEventType } from "./alert-payload.ts";
import { securityEventTypes } from "./security-events.ts";
import { newWebhookSecret } from "./webhook-signature.ts";

export const maxChannelsPerTenant = 20;

export type AlertChannelKind = "webhook" | "email";

export type AlertChannel = {
  id: string;
  tenantId: string;
  kind: AlertChannelKind;
  /** The webhook URL or the e-mail address. */
  target: string;
  eventTypes: AlertEventType[];
  createdAt: string;
};

type ChannelRow = { tenant_id: string; id: string; kind: AlertChannelKind; target_ciphertext: Uint8Array; event_types: string; created_at: string };

const context = (tenantId: string, channelId: string, field: "target" | "secret") =>
  ({ tenantId, objectType: "alert_channel", objectId: channelId, objectVersion: 1, field });

export function createAlertChannels(db: Kysely<DatabaseSchema>, vault: Vault) {
  async function present(row: ChannelRow): Promise<AlertChannel> {
    const eventTypes = (JSON.parse(row.event_types) as string[]).filter((type): type is AlertEventType => (securityEventTypes as readonly string[]).includes(type));
    return {
      id: row.id,
      tenantId: row.tenant_id,
      kind: row.kind,
      target: await vault.data.openString(context(row.tenant_id, row.id, "target"), row.target_ciphertext),
      eventTypes,
      createdAt: row.created_at,
    };
  }

  const alive = (tenantId: string) =>
    db.selectFrom("alert_channels").select(["tenant_id", "id", "kind", "target_ciphertext", "event_types", "created_at"])
      .where("tenant_id", "=", tenantId).where("deleted_at", "is", null);

  return {
    async list(tenantId: string): Promise<AlertChannel[]> {
      const rows = await alive(tenantId).orderBy("created_at", "asc").limit(maxChannelsPerTenant).execute();
      return Promise.all(rows.map(present));
    },

    async find(tenantId: string, channelId: string): Promise<AlertChannel | undefined> {
      const row = await alive(tenantId).where("id", "=", channelId).executeTakeFirst();
      return row ? present(row) : undefined;
    },

    // The webhook's signing secret, for a delivery.
    async secretOf(channel: AlertChannel): Promise<string> {
      const row = await db.selectFrom("alert_channels").select("secret_ciphertext")
        .where("tenant_id", "=", channel.tenantId).where("id", "=", channel.id).where("deleted_at", "is", null).executeTakeFirst();
      if (!row?.secret_ciphertext) throw new AppError("not_found", "the channel has no signing secret (deleted?)");
      return vault.data.openString(context(channel.tenantId, channel.id, "secret"), row.secret_ciphertext);
    },

    // Returns the new channel and, for a webhook, its secret: the only time it is shown.
    async create(input: { tenantId: string; kind: AlertChannelKind; target: string; eventTypes: AlertEventType[]; createdBy: string }): Promise<{ channel: AlertChannel; secret: string | null }> {
      const count = await db.selectFrom("alert_channels").select((eb) => eb.fn.countAll<number>().as("count"))
        .where("tenant_id", "=", input.tenantId).where("deleted_at", "is", null).executeTakeFirstOrThrow();
      if (Number(count.count) >= maxChannelsPerTenant) throw new AppError("conflict", `a company may have at most ${maxChannelsPerTenant} alert channels`);
      const id = newPublicId();
      const secret = input.kind === "webhook" ? newWebhookSecret() : null;
      const createdAt = new Date().toISOString();
      const eventTypes = [...new Set(input.eventTypes)];
      await db.insertInto("alert_channels").values({
        tenant_id: input.tenantId,
        id,
        kind: input.kind,
        target_ciphertext: await vault.data.sealString(context(input.tenantId, id, "target"), input.target),
        secret_ciphertext: secret === null ? null : await vault.data.sealString(context(input.tenantId, id, "secret"), secret),
        event_types: JSON.stringify(eventTypes),
        created_by: input.createdBy,
        created_at: createdAt,
        deleted_at: null,
      }).execute();
      return { channel: { id, tenantId: input.tenantId, kind: input.kind, target: input.target, eventTypes, createdAt }, secret };
    },

    async remove(tenantId: string, channelId: string): Promise<void> {
      const result = await db.updateTable("alert_channels").set({ deleted_at: new Date().toISOString(), secret_ciphertext: null })
        .where("tenant_id", "=", tenantId).where("id", "=", channelId).where("deleted_at", "is", null).executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw new AppError("not_found", "no such alert channel");
    },

    // The latest delivery attempt per channel, for the listing.
    async lastDeliveries(tenantId: string, channelIds: string[]) {
      const latest = new Map<string, { at: string; outcome: string; httpStatus: number | null; error: string | null }>();
      for (const channelId of channelIds) {
        const row = await db.selectFrom("alert_deliveries").select(["at", "outcome", "http_status", "error"])
          .where("tenant_id", "=", tenantId).where("channel_id", "=", channelId).orderBy("at", "desc").limit(1).executeTakeFirst();
        if (row) latest.set(channelId, { at: row.at, outcome: row.outcome, httpStatus: row.http_status, error: row.error });
      }
      return latest;
    },
  };
}

export type AlertChannels = ReturnType<typeof createAlertChannels>;
