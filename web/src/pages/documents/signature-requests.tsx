// Signature requests of one PDF document, on its page: the requests with their statuses and each
// recipient's progress, the sender's actions (remind, new PIN for a locked link, cancel, download the
// signed PDF), and a dialog to send the document for signature. Without placed fields, each signer
// signs on a page appended to the document.
import { useCallback, useState } from "react";
import { api, apiPath } from "../../api.ts";
import { ActionButton, Alert, Field, Form, SelectField, useLoaded } from "../../components/form.tsx";
import { Dialog } from "../../components/dialog.tsx";
import { Card } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";

type RequestSummary = { id: string; title: string; status: string; order: string; expiresAt: string; createdAt: string; final: { size: number; sha256: string | null } | null };
type Recipient = { id: string; name: string; email: string; role: string; order: number | null; status: string; locked: boolean; signedAt: string | null; declineReason: string | null };
type RequestDetail = RequestSummary & { recipients: Recipient[]; evidence: { at: string; event: string; recipientId: string | null }[] };
type NewRecipient = { name: string; email: string; phone: string; role: string };
type NewField = { recipient: number; kind: string; page: number; position: string };

const roles = ["signer", "approver", "viewer"] as const;
const fieldKinds = ["signature", "initials", "date", "text", "checkbox"] as const;
const positions = ["bottom left", "bottom right", "top left", "top right"] as const;
// Sizes in PDF points; positions on a Letter or A4 page (72 points = 1 inch from the edge).
const fieldSize: Record<string, { width: number; height: number }> = {
  signature: { width: 200, height: 50 }, initials: { width: 80, height: 30 }, date: { width: 120, height: 20 }, text: { width: 200, height: 20 }, checkbox: { width: 14, height: 14 },
};
function placed(field: NewField) {
  const size = fieldSize[field.kind]!;
  const x = field.position.endsWith("right") ? 540 - size.width : 72;
  const y = field.position.startsWith("top") ? 720 - size.height : 72;
  return { recipient: field.recipient, kind: field.kind, page: field.page - 1, x, y, ...size, required: field.kind !== "checkbox" };
}
const blankRecipient = (): NewRecipient => ({ name: "", email: "", phone: "", role: "signer" });

export function SignatureRequestsSection(props: { tenantId: string; document: { id: string; title: string }; canSend: boolean }) {
  const base = apiPath`/v1/tenants/${props.tenantId}/signature-requests`;
  const load = useCallback(() => api.get<{ signatureRequests: RequestSummary[] }>(`${base}?documentId=${encodeURIComponent(props.document.id)}`), [base, props.document.id]);
  const requests = useLoaded(load, props.document.id);
  const [sending, setSending] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Card title="Signatures">
      {requests.error && <Alert>{requests.error}</Alert>}
      <ul className="rows" aria-label="Signature requests">
        {requests.data?.signatureRequests.length === 0 && <li className="row muted">This document has not been sent for signature.</li>}
        {requests.data?.signatureRequests.map((request) => (
          <li key={request.id} className="row" data-testid="signature-request">
            <div className="row-main">
              <strong>{request.title}</strong>
              <span className="muted"> · <span className="badge" data-testid="signature-status">{request.status}</span> · {request.order} · expires {formatTime(request.expiresAt)}</span>
            </div>
            <div className="row-actions">
              <button type="button" className="button small secondary" onClick={() => setOpen(open === request.id ? null : request.id)}>{open === request.id ? "Hide" : "Details"}</button>
              {request.status === "completed" && <a className="button small" href={`${base}/${encodeURIComponent(request.id)}/final-pdf`} download>Signed PDF</a>}
            </div>
            {open === request.id && <RequestDetails base={base} requestId={request.id} onChanged={requests.reload} />}
          </li>
        ))}
      </ul>
      {props.canSend && <button type="button" className="button" onClick={() => setSending(true)}>Send for signature…</button>}
      {sending && <SendForSignatureDialog base={base} document={props.document} onClose={() => setSending(false)} onSent={async () => { setSending(false); await requests.reload(); }} />}
    </Card>
  );
}

function RequestDetails(props: { base: string; requestId: string; onChanged(): Promise<void> }) {
  const path = `${props.base}/${encodeURIComponent(props.requestId)}`;
  const load = useCallback(() => api.get<RequestDetail>(path), [path]);
  const detail = useLoaded(load, path);
  const changed = async () => {
    await detail.reload();
    await props.onChanged();
  };
  const data = detail.data;
  if (!data) return detail.error ? <Alert>{detail.error}</Alert> : <p className="loading">Loading…</p>;
  const open = data.status === "sent" || data.status === "draft";
  return (
    <div className="full-width">
      <ul className="rows" aria-label="Recipients">
        {data.recipients.map((recipient) => (
          <li key={recipient.id} className="row">
            <div className="row-main">
              {recipient.name} <span className="muted">&lt;{recipient.email}&gt; · {recipient.role} · </span>
              <span className="badge">{recipient.locked ? "locked" : recipient.status}</span>
              {recipient.signedAt && <span className="muted"> · {formatTime(recipient.signedAt)}</span>}
              {recipient.declineReason && <p className="muted">Reason: {recipient.declineReason}</p>}
            </div>
            {open && recipient.locked && (
              <div className="row-actions"><ActionButton label="Send a new PIN" action={async () => { await api.post(`${path}/recipients/${encodeURIComponent(recipient.id)}/new-pin`); await changed(); }} /></div>
            )}
          </li>
        ))}
      </ul>
      {open && (
        <div className="buttons">
          {data.status === "draft" && <ActionButton label="Send" action={async () => { await api.post(`${path}/send`); await changed(); }} />}
          {data.status === "sent" && <ActionButton label="Remind" action={async () => { await api.post(`${path}/remind`); await changed(); }} />}
          <ActionButton label="Cancel request" danger confirm="Cancel this request? Its links stop working at once." action={async () => { await api.post(`${path}/cancel`); await changed(); }} />
        </div>
      )}
      <details>
        <summary>Evidence ({data.evidence.length} steps)</summary>
        <ul className="rows">
          {data.evidence.map((step, index) => (
            <li key={index} className="row muted">{formatTime(step.at)} · {step.event}{step.recipientId ? ` · ${data.recipients.find((r) => r.id === step.recipientId)?.name ?? ""}` : ""}</li>
          ))}
        </ul>
      </details>
    </div>
  );
}

function SendForSignatureDialog(props: { base: string; document: { id: string; title: string }; onClose(): void; onSent(): Promise<void> }) {
  const [recipients, setRecipients] = useState<NewRecipient[]>([blankRecipient()]);
  const [fields, setFields] = useState<NewField[]>([]);
  const update = (index: number, change: Partial<NewRecipient>) => setRecipients(recipients.map((recipient, i) => (i === index ? { ...recipient, ...change } : recipient)));
  const updateField = (index: number, change: Partial<NewField>) => setFields(fields.map((field, i) => (i === index ? { ...field, ...change } : field)));
  const signers = recipients.map((recipient, index) => ({ index, label: `${index + 1}. ${recipient.name || recipient.email || "recipient"}` })).filter((entry) => recipients[entry.index]!.role === "signer");
  const removeRecipient = (index: number) => {
    setRecipients(recipients.filter((_, i) => i !== index));
    setFields(fields.filter((field) => field.recipient !== index).map((field) => (field.recipient > index ? { ...field, recipient: field.recipient - 1 } : field)));
  };
  const send = async (values: Record<string, string>) => {
    const days = Number(values.days ?? 14);
    const reminder = Number(values.reminderDays ?? 0);
    await api.post(props.base, {
      documentId: props.document.id,
      title: (values.title ?? "").trim() || props.document.title,
      ...(values.message?.trim() ? { message: values.message.trim() } : {}),
      order: values.order === "parallel" ? "parallel" : "sequential",
      expiresAt: new Date(Date.now() + days * 86_400_000).toISOString(),
      ...(reminder > 0 ? { reminderDays: reminder } : {}),
      recipients: recipients.map((recipient) => ({
        name: recipient.name.trim(), email: recipient.email.trim(), role: recipient.role,
        ...(recipient.phone.replace(/[\s()-]/g, "") ? { phone: recipient.phone.replace(/[\s()-]/g, "") } : {}),
      })),
      fields: fields.filter((field) => recipients[field.recipient]?.role === "signer").map(placed),
      send: true,
    });
    await props.onSent();
  };
  return (
    <Dialog title={`Send “${props.document.title}” for signature`} onClose={props.onClose} wide>
      <Form submitLabel="Send for signature" onSubmit={send} label="Send for signature">
        <Field label="Title" name="title" defaultValue={props.document.title} maxLength={500} />
        <div className="field">
          <label htmlFor="signature-message">Message to the recipients (optional)</label>
          <textarea id="signature-message" name="message" maxLength={2000} rows={3} />
        </div>
        <SelectField label="Signing order" name="order" options={["sequential", "parallel"]} defaultValue="sequential" />
        <SelectField label="Expires in (days)" name="days" options={["7", "14", "30", "90"]} defaultValue="14" />
        <SelectField label="Remind every (days, 0 = never)" name="reminderDays" options={["0", "1", "2", "3", "7"]} defaultValue="2" />
        <fieldset className="field">
          <legend>Recipients, in signing order</legend>
          <p className="muted">Each gets a personal link by e-mail and a PIN apart from it: by text message when a phone number is given, otherwise in a second e-mail. Viewers get the signed document.</p>
          {recipients.map((recipient, index) => (
            <div key={index} className="recipient-row" data-testid="recipient-row">
              <Field label="Name" name={`name-${index}`} required maxLength={200} value={recipient.name} onChange={(event) => update(index, { name: event.target.value })} />
              <Field label="E-mail" name={`email-${index}`} type="email" required maxLength={254} value={recipient.email} onChange={(event) => update(index, { email: event.target.value })} />
              <Field label="Phone (optional)" name={`phone-${index}`} type="tel" placeholder="+15550001111" value={recipient.phone} onChange={(event) => update(index, { phone: event.target.value })} />
              <SelectField label="Role" name={`role-${index}`} options={roles} value={recipient.role} onChange={(event) => update(index, { role: event.target.value })} />
              {recipients.length > 1 && <button type="button" className="button small secondary" onClick={() => removeRecipient(index)}>Remove</button>}
            </div>
          ))}
          {recipients.length < 20 && <button type="button" className="button small secondary" onClick={() => setRecipients([...recipients, blankRecipient()])}>Add a recipient</button>}
        </fieldset>
        <fieldset className="field">
          <legend>Fields (optional)</legend>
          <p className="muted">A signer without a signature field signs on a page added at the end of the document.</p>
          {fields.map((field, index) => (
            <div key={index} className="recipient-row" data-testid="field-row">
              <div className="field">
                <label htmlFor={`field-recipient-${index}`}>For</label>
                <select id={`field-recipient-${index}`} value={field.recipient} onChange={(event) => updateField(index, { recipient: Number(event.target.value) })}>
                  {signers.map((signer) => <option key={signer.index} value={signer.index}>{signer.label}</option>)}
                </select>
              </div>
              <SelectField label="Kind" name={`field-kind-${index}`} options={fieldKinds} value={field.kind} onChange={(event) => updateField(index, { kind: event.target.value })} />
              <Field label="Page" name={`field-page-${index}`} type="number" min={1} max={10000} required value={field.page} onChange={(event) => updateField(index, { page: Math.max(1, Number(event.target.value) || 1) })} />
              <SelectField label="Position" name={`field-position-${index}`} options={positions} value={field.position} onChange={(event) => updateField(index, { position: event.target.value })} />
              <button type="button" className="button small secondary" onClick={() => setFields(fields.filter((_, i) => i !== index))}>Remove</button>
            </div>
          ))}
          {signers.length > 0 && fields.length < 200 && (
            <button type="button" className="button small secondary" onClick={() => setFields([...fields, { recipient: signers[0]!.index, kind: "signature", page: 1, position: "bottom right" }])}>Add a field</button>
          )}
        </fieldset>
      </Form>
    </Dialog>
  );
}
