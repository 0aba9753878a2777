// The signing page (/sign#token=…; the token stays in the fragment, out of server logs), for a
// recipient outside the company: no account needed. The link shows only who sent it and asks for the
// PIN that came another way; the PIN earns a short session (kept in memory only) for the document,
// the recipient's fields, consent, and signing (drawn or typed) or declining. Works at phone width.
import { useCallback, useEffect, useId, useRef, useState, type PointerEvent } from "react";
import { apiPath, apiRequest, ApiError } from "../api.ts";
import { Alert, Field, Form, Notice, useAction, useLoaded } from "../components/form.tsx";
import { Card, Page } from "../components/layout.tsx";
import { PdfPreview } from "../components/pdf-preview.tsx";
import { formatTime } from "../format.ts";
import { useFragmentToken } from "../router.tsx";

type LinkInfo = { company: string; pinRequired: boolean; expiresAt: string };
type SignerField = { id: string; kind: "signature" | "initials" | "date" | "text" | "checkbox"; page: number; x: number; y: number; width: number; height: number; required: boolean };
type SigningTask = {
  company: string; title: string; message: string | null; recipient: { name: string; email: string; role: "signer" | "approver" };
  yourTurn: boolean; expiresAt: string; consentText: string; consentAt: string | null; fields: SignerField[];
};

const tokenPattern = /^[A-Za-z0-9_-]{43}$/;
const sessionHeader = "x-signing-session";

export function SignPage() {
  const token = useFragmentToken();
  if (!token || !tokenPattern.test(token)) {
    return (
      <Page title="Sign a document" narrow>
        <Alert>This link is incomplete. Open the whole link you were sent.</Alert>
      </Page>
    );
  }
  return <SigningLink key={token} token={token} />;
}

function SigningLink(props: { token: string }) {
  const base = apiPath`/v1/sign/${props.token}`;
  const load = useCallback(() => apiRequest<LinkInfo>("GET", base).then((answer) => answer.body), [base]);
  const link = useLoaded(load, props.token);
  const [session, setSession] = useState<string | null>(null);
  const [finished, setFinished] = useState<"signed" | "completed" | "declined" | null>(null);

  if (finished) {
    return (
      <Page title={finished === "declined" ? "You declined" : "Thank you"} narrow>
        <Card>
          {finished === "declined"
            ? <p>You declined to sign. The sender has been told, with your reason.</p>
            : <p data-testid="signing-done">Your signature is recorded. {finished === "completed" ? "Everyone has signed: the" : "When everyone has signed, the"} signed and sealed document will reach you by e-mail.</p>}
        </Card>
      </Page>
    );
  }
  if (link.error && !link.data) {
    return (
      <Page title="Sign a document" narrow>
        <Alert>{link.error}</Alert>
        <p className="muted">Signing links stop working when the request is complete, withdrawn or expired. Ask the sender if you still need to sign.</p>
      </Page>
    );
  }
  if (!link.data) return <p className="loading">Loading…</p>;
  if (!session) {
    const enterPin = async (values: Record<string, string>) => {
      const answer = await apiRequest<{ session: string }>("POST", `${base}/pin`, { pin: (values.pin ?? "").trim() });
      setSession(answer.body.session);
    };
    return (
      <Page title="Sign a document" intro={`${link.data.company} asks you to sign a document through Strongroom.`} narrow>
        <Form submitLabel="Open the document" onSubmit={enterPin} label="Enter the PIN">
          <p className="muted">Enter the PIN that reached you separately from this link (by text message or another e-mail). After five wrong PINs the link locks, and the sender must send you a new PIN.</p>
          <Field label="PIN" name="pin" inputMode="numeric" autoComplete="one-time-code" required maxLength={12} autoFocus />
        </Form>
        <p className="muted">This link works until {formatTime(link.data.expiresAt)}.</p>
      </Page>
    );
  }
  return <SigningTaskView base={base} session={session} onSessionEnded={() => setSession(null)} onFinished={setFinished} />;
}

function SigningTaskView(props: { base: string; session: string; onSessionEnded(): void; onFinished(outcome: "signed" | "completed" | "declined"): void }) {
  const headers = { [sessionHeader]: props.session };
  const call = async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return (await apiRequest<T>(method, `${props.base}${path}`, body, headers)).body;
    } catch (error) {
      // The session lasts half an hour: after that the PIN is asked for again.
      if (error instanceof ApiError && error.code === "pin_required") props.onSessionEnded();
      throw error;
    }
  };
  const load = useCallback(() => call<SigningTask>("GET", "/request"), [props.base, props.session]);
  const task = useLoaded(load, props.session);
  const [values, setValues] = useState<Record<string, string>>({});
  const [consented, setConsented] = useState(false);
  const [declining, setDeclining] = useState(false);
  const consentId = useId();
  const data = task.data;

  const sign = useAction(async () => {
    if (!data) return;
    if (!data.consentAt) await call("POST", "/consent");
    const fields = data.fields.map((field) => ({ fieldId: field.id, value: values[field.id] ?? (field.kind === "checkbox" ? "false" : "") }))
      .filter((field) => field.value !== "");
    const result = await call<{ status: "signed" | "completed" }>("POST", "/sign", { fields });
    props.onFinished(result.status);
  });
  const decline = async (form: Record<string, string>) => {
    await call("POST", "/decline", { reason: form.reason ?? "" });
    props.onFinished("declined");
  };

  if (!data) return <Page title="Sign a document">{task.error ? <Alert>{task.error}</Alert> : <p className="loading">Loading…</p>}</Page>;
  const approver = data.recipient.role === "approver";
  const setValue = (id: string, value: string) => setValues((previous) => ({ ...previous, [id]: value }));
  return (
    <Page title={data.title} intro={`${data.company} asks you, ${data.recipient.name}, to ${approver ? "approve" : "sign"} this document.`}>
      {data.message && <Card title="Message from the sender"><p className="message-text">{data.message}</p></Card>}
      {!data.yourTurn && <Notice>Others sign before you. You can read the document now; you can sign once it is your turn.</Notice>}
      <Card title="Document" className="preview-card">
        <PdfPreview url={`${props.base}/document`} title={data.title} headers={headers} />
      </Card>
      <Card title={approver ? "Approve" : "Your fields"}>
        <div className="form signing-fields">
          {data.fields.map((field) => (
            <SignerFieldInput key={field.id} field={field} value={values[field.id] ?? ""} onChange={(value) => setValue(field.id, value)} signerName={data.recipient.name} />
          ))}
          <div className="field consent">
            <input id={consentId} type="checkbox" checked={consented || data.consentAt !== null} disabled={data.consentAt !== null} onChange={(event) => setConsented(event.target.checked)} />
            <label htmlFor={consentId}>{data.consentText}</label>
          </div>
          {sign.error && <Alert>{sign.error}</Alert>}
          <div className="buttons">
            <button type="button" className="button" disabled={sign.busy || !data.yourTurn || !(consented || data.consentAt)} onClick={() => void sign.run()}>
              {sign.busy ? "Please wait…" : approver ? "Approve" : "Sign"}
            </button>
            <button type="button" className="button secondary" onClick={() => setDeclining(!declining)}>Decline…</button>
          </div>
        </div>
        {declining && (
          <Form submitLabel="Decline to sign" onSubmit={decline} label="Decline" secondary>
            <div className="field">
              <label htmlFor={`${consentId}-reason`}>Your reason (the sender sees it)</label>
              <textarea id={`${consentId}-reason`} name="reason" required maxLength={1000} rows={3} />
            </div>
          </Form>
        )}
      </Card>
    </Page>
  );
}

function fieldLabel(field: SignerField): string {
  const where = field.page < 0 ? "on the signature page" : `on page ${field.page + 1}`;
  const name = { signature: "Signature", initials: "Initials", date: "Date", text: "Text", checkbox: "Tick box" }[field.kind];
  return `${name} ${where}${field.required ? "" : " (optional)"}`;
}

function SignerFieldInput(props: { field: SignerField; value: string; onChange(value: string): void; signerName: string }) {
  const { field } = props;
  const id = useId();
  if (field.kind === "signature") return <SignaturePad label={fieldLabel(field)} value={props.value} onChange={props.onChange} signerName={props.signerName} />;
  if (field.kind === "checkbox") {
    return (
      <div className="field consent">
        <input id={id} type="checkbox" checked={props.value === "true"} onChange={(event) => props.onChange(event.target.checked ? "true" : "false")} />
        <label htmlFor={id}>{fieldLabel(field)}</label>
      </div>
    );
  }
  return (
    <div className="field">
      <label htmlFor={id}>{fieldLabel(field)}</label>
      <input id={id} type={field.kind === "date" ? "date" : "text"} value={props.value} maxLength={field.kind === "initials" ? 10 : 500}
        required={field.required} onChange={(event) => props.onChange(event.target.value)} />
    </div>
  );
}

// Draw with a finger, pen or mouse (sent as a PNG), or type the name.
function SignaturePad(props: { label: string; value: string; onChange(value: string): void; signerName: string }) {
  const [mode, setMode] = useState<"draw" | "type">("draw");
  const canvas = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const typedId = useId();

  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    const ratio = Math.min(window.devicePixelRatio || 1, 3);
    element.width = Math.floor(element.clientWidth * ratio);
    element.height = Math.floor(element.clientHeight * ratio);
    const context = element.getContext("2d");
    if (!context) return;
    context.scale(ratio, ratio);
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.strokeStyle = "#111";
  }, [mode]);

  const point = (event: PointerEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };
  const start = (event: PointerEvent<HTMLCanvasElement>) => {
    const context = event.currentTarget.getContext("2d");
    if (!context) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drawing.current = true;
    const { x, y } = point(event);
    context.beginPath();
    context.moveTo(x, y);
  };
  const move = (event: PointerEvent<HTMLCanvasElement>) => {
    if (!drawing.current) return;
    const context = event.currentTarget.getContext("2d");
    const { x, y } = point(event);
    context?.lineTo(x, y);
    context?.stroke();
  };
  const end = (event: PointerEvent<HTMLCanvasElement>) => {
    if (!drawing.current) return;
    drawing.current = false;
    props.onChange(event.currentTarget.toDataURL("image/png"));
  };
  const clear = () => {
    const element = canvas.current;
    element?.getContext("2d")?.clearRect(0, 0, element.width, element.height);
    props.onChange("");
  };

  return (
    <fieldset className="field signature-field">
      <legend>{props.label}</legend>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" className="tab" aria-selected={mode === "draw"} onClick={() => { setMode("draw"); props.onChange(""); }}>Draw</button>
        <button type="button" role="tab" className="tab" aria-selected={mode === "type"} onClick={() => { setMode("type"); props.onChange(props.signerName); }}>Type</button>
      </div>
      {mode === "draw" ? (
        <>
          <canvas ref={canvas} className="signature-pad" aria-label="Draw your signature here" data-testid="signature-pad"
            onPointerDown={start} onPointerMove={move} onPointerUp={end} onPointerCancel={end} />
          <button type="button" className="button small secondary" onClick={clear}>Clear</button>
        </>
      ) : (
        <>
          <label htmlFor={typedId}>Your name as your signature</label>
          <input id={typedId} className="typed-signature" value={props.value} maxLength={200} onChange={(event) => props.onChange(event.target.value)} />
        </>
      )}
    </fieldset>
  );
}
