// Whether this server keeps outgoing messages in a dev outbox that this browser may read. The route
// exists only on a dev installation and answers only on this machine under a loopback name, so it is
// asked (once per page load) only when the app itself is opened that way.
import { useEffect, useState } from "react";
import { api } from "./api.ts";

export type OutboxMessage = { id: string; createdAt: string; channel: "email" | "sms"; to: string; subject: string; text: string; purpose: string };

const loopbackNames = new Set(["localhost", "127.0.0.1", "[::1]"]);
let probe: Promise<boolean> | undefined;

export function readDevOutbox(limit: number): Promise<OutboxMessage[]> {
  return api.get<{ messages: OutboxMessage[] }>(`/v1/dev/outbox?limit=${limit}`).then((answer) => answer.messages);
}

function devOutboxAvailable(): Promise<boolean> {
  if (!loopbackNames.has(window.location.hostname)) return Promise.resolve(false);
  probe ??= readDevOutbox(1).then(() => true, () => false);
  return probe;
}

export function useDevOutboxAvailable(): boolean {
  const [available, setAvailable] = useState(false);
  useEffect(() => {
    let live = true;
    void devOutboxAvailable().then((answer) => live && setAvailable(answer));
    return () => {
      live = false;
    };
  }, []);
  return available;
}
