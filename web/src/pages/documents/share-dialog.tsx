// Share links for one document: a link for someone outside the company, with an expiry and an
// optional PIN to give them another way (by phone, by text). The link is shown once; links can be
// revoked at once, and each shows how often it was used.
import { useCallback, useId, useState } from "react";
import { ApiError } from "../../api.ts";
import { ActionButton, Alert, Field, Form, useLoaded } from "../../components/form.tsx";
import { Dialog } from "../../components/dialog.tsx";
import { OneTimeSecret } from "../../components/one-time-secret.tsx";
import { formatTime } from "../../format.ts";
import type { CreatedShare, DocumentsApi, Share } from "./documents-api.ts";

const lifetimes = [
  { label: "1 hour", hours: 1 },
  { label: "1 day", hours: 24 },
  { label: "7 days", hours: 24 * 7 },
  { label: "30 days", hours: 24 * 30 },
];

type Props = { docs: DocumentsApi; document: { id: string; title: string }; onClose(): void };

export function ShareDialog(props: Props) {
  const { docs, document } = props;
  const load = useCallback(() => docs.shares(document.id), [docs, document.id]);
  const shares = useLoaded(load, document.id);
  const [created, setCreated] = useState<{ link: string; pin?: string } | undefined>();
  const [withPin, setWithPin] = useState(false);
  const lifetimeId = useId();

  const create = async (values: Record<string, string>) => {
    const hours = Number(values.lifetime ?? 24 * 7);
    const expiresAt = new Date(Date.now() + hours * 3600_000).toISOString();
    const pin = withPin ? (values.pin ?? "").trim() : "";
    if (withPin && !pin) throw new ApiError(0, "pin_missing", "Type the PIN, or untick “Protect with a PIN”.");
    const answer = await docs.createShare(document.id, pin ? { expiresAt, pin } : { expiresAt });
    setCreated({ link: shareLinkOf(answer), ...(answer.pin ? { pin: answer.pin } : pin ? { pin } : {}) });
    await shares.reload();
  };

  return (
    <Dialog title={`Share “${document.title}”`} onClose={props.onClose} wide>
      {created && (
        <OneTimeSecret title="Share link created." value={created.link} testId="new-share-link" onDone={() => setCreated(undefined)}>
          {created.pin
            ? <p className="muted">Give the PIN <strong data-testid="new-share-pin">{created.pin}</strong> to the recipient another way than the link (by phone or text message).</p>
            : <p className="muted">Anyone with this link can download the document until it expires or you revoke it.</p>}
        </OneTimeSecret>
      )}
      {shares.error && <Alert>{shares.error}</Alert>}
      <ul className="rows" aria-label="Share links">
        {shares.data?.length === 0 && <li className="row muted">This document has not been shared.</li>}
        {shares.data?.map((share) => {
          const status = statusOf(share);
          const downloads = share.downloads ?? share.downloadCount;
          return (
            <li key={share.id} className="row">
              <div className="row-main">
                <strong>Link created {formatTime(share.createdAt)}</strong>
                <span className="muted">
                  {status === "active" ? "expires" : "expired"} {formatTime(share.expiresAt)}
                  {(share.pinRequired ?? share.hasPin) ? " · with PIN" : " · no PIN"}
                  {downloads !== undefined && ` · ${downloads} download${downloads === 1 ? "" : "s"}`}
                  {share.lastDownloadAt ? ` · last ${formatTime(share.lastDownloadAt)}` : ""}
                </span>
              </div>
              <div className="row-actions">
                {status === "active"
                  ? <ActionButton label="Revoke" danger confirm="Revoke this link now?" action={async () => { await docs.revokeShare(document.id, share.id); await shares.reload(); }} />
                  : <span className="badge warn">{status}</span>}
              </div>
            </li>
          );
        })}
      </ul>
      <Form submitLabel="Create link" onSubmit={create} secondary label="New share link">
        <div className="field">
          <label htmlFor={lifetimeId}>Link expires after</label>
          <select id={lifetimeId} name="lifetime" defaultValue={String(24 * 7)}>
            {lifetimes.map((lifetime) => <option key={lifetime.hours} value={lifetime.hours}>{lifetime.label}</option>)}
          </select>
        </div>
        <label className="check">
          <input type="checkbox" checked={withPin} onChange={(event) => setWithPin(event.target.checked)} />
          <span>Protect with a PIN</span>
        </label>
        {withPin && (
          <Field label="PIN" name="pin" inputMode="numeric" autoComplete="off" required minLength={4} maxLength={12} pattern="[0-9]{4,12}"
            hint="4 to 12 digits. Send it to the recipient another way than the link." />
        )}
      </Form>
    </Dialog>
  );
}

function statusOf(share: Share): "active" | "expired" | "revoked" {
  if (share.revokedAt) return "revoked";
  return Date.parse(share.expiresAt) <= Date.now() ? "expired" : "active";
}

// The address to hand out: the server's, else this app's share page with the token in the fragment
// (a fragment never reaches a server's logs).
function shareLinkOf(answer: CreatedShare): string {
  if (answer.url) return answer.url;
  return `${window.location.origin}/shared#token=${answer.token ?? ""}`;
}
