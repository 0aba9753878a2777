// Change notices between nodes over PostgreSQL LISTEN/NOTIFY: each node keeps one connection that
// listens; a writer sends pg_notify in its own transaction, which PostgreSQL delivers to every
// listener when (and only if) the transaction commits. While the listening connection is down the
// node is not current (its caches read the database) and it reconnects; once listening again it
// empties every cache, since notices sent in between are lost.

import pg from "pg";
import {
  changeChannel, createListenerSet, decodeNotice, notifyPostgres, type ChangeNotices,
} from "./change-notices.ts";

/** The listening connection's name in pg_stat_activity. */
export const listenerApplicationName = "strongroom-change-notices";
const firstRetryMs = 100;
const maxRetryMs = 5_000;

export async function openPostgresChangeNotices(config: pg.ClientConfig, onError: (error: Error) => void = () => {}): Promise<ChangeNotices> {
  const listeners = createListenerSet();
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let retryMs = firstRetryMs;
  let retryTimer: NodeJS.Timeout | undefined;

  function lost(error: Error | undefined): void {
    if (error) onError(error);
    listening = false;
    const old = client;
    client = undefined;
    old?.removeAllListeners("notification");
    old?.end().catch(() => {});
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().catch(() => {});
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, maxRetryMs);
  }

  async function connect(): Promise<void> {
    const next = new pg.Client({ ...config, application_name: listenerApplicationName });
    client = next;
    next.on("error", (error) => { if (client === next) lost(error); });
    next.on("end", () => { if (client === next) lost(undefined); });
    next.on("notification", (message) => {
      if (message.channel === changeChannel) listeners.deliver(decodeNotice(message.payload ?? ""));
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${changeChannel}`);
    } catch (error) {
      if (client === next) lost(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (client !== next || closed) return;
    listening = true;
    retryMs = firstRetryMs;
    // Whatever changed while nobody listened is unknown.
    listeners.deliver({ topic: "all" });
  }

  // A failure here is retried like any lost connection; until then caches read the database.
  await connect().catch(() => {});

  return {
    async announce(executor, topic, key) {
      // This node at once (the notice through the listener comes a moment later), the others on commit.
      listeners.deliver({ topic, key });
      await notifyPostgres(executor, topic, key);
    },
    deliverHere: listeners.deliver,
    subscribe: listeners.subscribe,
    isCurrent: () => listening,
    async close() {
      closed = true;
      listening = false;
      if (retryTimer) clearTimeout(retryTimer);
      const old = client;
      client = undefined;
      await old?.end().catch(() => {});
    },
  };
}
