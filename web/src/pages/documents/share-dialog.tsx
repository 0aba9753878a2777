// Share links for one document: a link for someone outside the company that expires, optionally
// protected by a six-digit PIN that travels another way (by text message, or passed on by the sharer).
// The link can be e-mailed to the recipient. Link and PIN are shown once; links can be revoked at once,
// and each shows how often it was used.
import { useCallback, useId, useState } from "react";
import { ActionButton, Alert, Field, Form, useLoaded } from "../../components/form.tsx";
import { Dialog } from "../../components/dialog.tsx";
import { OneTimeSecret } from "../../components/one-time-secret.tsx";
import { formatTime } from "../../format.ts";
import type { CreatedShare, DocumentsApi, NewShare, Share } from "./documents-api.ts";

const lifetimes = [
  { label: "1 hour", hours: 1 },
  { label: "1 day", hours: 24 },
  { label: "7 days", hours: 24 * 7 },
  { label: "30 days", hours: 24 * 30 },
  { label: "90 days", hours: 24 * 90 - 1 },
];

type Props = { docs: DocumentsApi; document: { id: string; title: string }; onClose(): void };

export function ShareDialog(props: Props) {
  const { docs, document } = props;
  const load = useCallback(() => docs.shares(document.id), [docs, document.id]);
  const shares = useLoaded(load, document.id);
  const [created, setCreated] = useState<CreatedShare | undefined>();
  const [withPin, setWithPin] = useState(true);
  const lifetimeId = useId();

  const create = async (values: Record<string, string>) => {
    const hours = Number(values.lifetime ?? 24 * 7);
    const input: NewShare = { expiresAt: new Date(Date.now() + hours * 3600_000).toISOString(), pin: withPin };
    const email = (values.recipientEmail ?? "").trim();
    const phone = withPin ? (values.recipientPhone ?? "").replace(/[\s()-]/g, "") : "";
    if (email) input.recipientEmail = email;
    if (phone) input.recipientPhone = phone;
    setCreated(await docs.createShare(document.id, input));
    await shares.reload();
  };

  return (
    <Dialog title={`Share “${document.title}”`} onClose={props.onClose} wide>
      {created && (
        <OneTimeSecret title={created.linkSentTo ? "Share link created and e-mailed." : "Share link created."} value={created.url} testId="new-share-link" onDone={() => setCreated(undefined)}>
          {created.pin && (
            <p>
              PIN: <strong className="share-pin" data-testid="new-share-pin">{created.pin}</strong>{" "}
              <span className="muted">Give it to the recipient another way than the link: by phone, or in person.</span>
            </p>
          )}
          {created.pinSentTo === "sms" && <p className="muted">The PIN was sent to the recipient by text message.</p>}
          {!created.share.pinRequired && <p className="muted">Anyone with this link can download the document until it expires or you revoke it.</p>}
        </OneTimeSecret>
      )}
      {shares.error && <Alert>{shares.error}</Alert>}
      <ul className="rows" aria-label="Share links">
        {shares.data?.length === 0 && <li className="row muted">This document has not been shared.</li>}
        {shares.data?.map((share) => <ShareRow key={share.id} share={share} revoke={async () => { await docs.revokeShare(document.id, share.id); await shares.reload(); }} />)}
      </ul>
      <Form submitLabel="Create link" onSubmit={create} secondary label="New share link">
        <div className="field">
          <label htmlFor={lifetimeId}>Link expires after</label>
          <select id={lifetimeId} name="lifetime" defaultValue={String(24 * 7)}>
            {lifetimes.map((lifetime) => <option key={lifetime.hours} value={lifetime.hours}>{lifetime.label}</option>)}
          </select>
        </div>
        <Field label="E-mail the link to (optional)" name="recipientEmail" type="email" maxLength={254} autoComplete="off" />
        <label className="check">
          <input type="checkbox" checked={withPin} onChange={(event) => setWithPin(event.target.checked)} />
          <span>Protect with a PIN <span className="muted">six digits, needed to open the link; five wrong tries lock it</span></span>
        </label>
        {withPin && (
          <Field label="Text the PIN to (optional)" name="recipientPhone" type="tel" maxLength={20} autoComplete="off" placeholder="+4915112345678"
            hint="A phone number with its country code. Left empty, the PIN is shown to you once, to pass on yourself." />
        )}
      </Form>
    </Dialog>
  );
}

function ShareRow(props: { share: Share; revoke(): Promise<void> }) {
  const { share } = props;
  const recipient = [share.recipient?.email, share.recipient?.phone].filter(Boolean).join(", ");
  return (
    <li className="row">
      <div className="row-main">
        <strong>Link created {formatTime(share.createdAt)}{recipient ? ` for ${recipient}` : ""}</strong>
        <span className="muted">
          {share.status === "expired" ? "expired" : "expires"} {formatTime(share.expiresAt)}
          {share.pinRequired ? " · with PIN" : " · no PIN"}
          {` · ${share.downloads} download${share.downloads === 1 ? "" : "s"}`}
          {share.lastDownloadAt ? `, last ${formatTime(share.lastDownloadAt)}` : ""}
        </span>
      </div>
      <div className="row-actions">
        {share.status === "locked" && <span className="badge warn">locked: too many wrong PINs</span>}
        {share.status === "active" || share.status === "locked"
          ? <ActionButton label="Revoke" danger confirm="Revoke this link now?" action={props.revoke} />
          : <span className="badge warn">{share.status}</span>}
      </div>
    </li>
  );
}
