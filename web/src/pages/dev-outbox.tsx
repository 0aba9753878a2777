// The dev outbox: on a dev installation, e-mails and text messages (sign-in codes, links) are kept
// sealed on the server instead of being sent; this page lists them, newest first. Anywhere else the
// server has no such route and the page says so.
import { useCallback, type ReactNode } from "react";
import { ApiError } from "../api.ts";
import { Alert, useLoaded } from "../components/form.tsx";
import { Card, Page } from "../components/layout.tsx";
import { readDevOutbox } from "../dev-outbox.ts";
import { formatTime } from "../format.ts";

const shown = 50;

export function DevOutboxPage() {
  const load = useCallback(() => readDevOutbox(shown).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }), []);
  const outbox = useLoaded(load, "outbox");
  return (
    <Page title="Dev outbox" intro="Messages this dev installation would have sent, newest first. Only this machine can read them.">
      {outbox.error && <Alert>{outbox.error}</Alert>}
      {outbox.data === null && (
        <Card>
          <p>The dev outbox is not available here. It exists only on a dev installation, opened on the same machine as https://localhost.</p>
        </Card>
      )}
      {outbox.data && (
        <>
          <div className="buttons page-actions">
            <button type="button" className="button secondary" disabled={outbox.loading} onClick={() => void outbox.reload()}>
              {outbox.loading ? "Loading…" : "Refresh"}
            </button>
          </div>
          <Card>
            {outbox.data.length === 0 && <p className="muted">The outbox is empty.</p>}
            <ul className="rows messages" aria-label="Messages">
              {outbox.data.map((message) => (
                <li key={message.id} className="row message">
                  <div className="row-main">
                    <span className="badges">
                      <span className="badge">{message.channel === "sms" ? "text message" : "e-mail"}</span>
                      <span className="badge">{message.purpose.replace(/_/g, " ")}</span>
                    </span>
                    <strong>{message.subject || "(no subject)"}</strong>
                    <span className="muted">to {message.to} · {formatTime(message.createdAt)}</span>
                    <p className="message-text">{withLinks(message.text)}</p>
                  </div>
                </li>
              ))}
            </ul>
          </Card>
        </>
      )}
    </Page>
  );
}

// Links in the text become clickable (only https ones); the rest stays text, escaped by React.
function withLinks(text: string): ReactNode[] {
  return text.split(/(https:\/\/[^\s<>"]+)/g).map((part, index) =>
    index % 2 === 1 ? <a key={index} href={part}>{part}</a> : part);
}
