// Two-step sign-in with an authenticator app: set-up shows the secret once (as a QR code and as text
// to type in), a current code switches it on and brings the ten recovery codes, shown once until the
// person says they saved them; turning it off needs a current code or the password.
import { useState } from "react";
import { api } from "../../api.ts";
import { Field, Form, Notice, useAction } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import { QrCode } from "../../components/qr-code.tsx";
import { formatTime } from "../../format.ts";
import type { SecondFactors } from "./security-page.tsx";

type Enrolment = { secret: string; otpauthUri: string };
type Step = { kind: "idle" } | { kind: "enrolling"; enrolment: Enrolment } | { kind: "codes"; codes: string[] };

export function TotpSection(props: { factors: SecondFactors; reload(): Promise<void> }) {
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [notice, setNotice] = useState<string | null>(null);
  const start = useAction(async () => {
    setNotice(null);
    setStep({ kind: "enrolling", enrolment: await api.post<Enrolment>("/v1/account/totp") });
  });

  const confirm = async (values: Record<string, string>) => {
    const answer = await api.post<{ recoveryCodes: string[] }>("/v1/account/totp/confirm", { code: (values.code ?? "").trim() });
    setStep({ kind: "codes", codes: answer.recoveryCodes });
  };
  const finish = async () => {
    setStep({ kind: "idle" });
    setNotice("Two-step sign-in with your authenticator app is on.");
    await props.reload();
  };
  const turnOff = async (values: Record<string, string>) => {
    const proof = (values.proof ?? "").trim();
    // A password is never six digits (the policy asks for more), so six digits are a code.
    await api.post("/v1/account/totp/disable", /^\d{6}$/.test(proof) ? { code: proof } : { password: values.proof ?? "" });
    setNotice("Two-step sign-in with an authenticator app is off; your recovery codes no longer work.");
    await props.reload();
  };

  return (
    <Card title="Authenticator app">
      {notice && <Notice>{notice}</Notice>}
      {step.kind === "codes" && <RecoveryCodes codes={step.codes} onDone={finish} />}
      {step.kind === "enrolling" && (
        <Enrol enrolment={step.enrolment} onConfirm={confirm} onCancel={() => setStep({ kind: "idle" })} />
      )}
      {step.kind === "idle" && !props.factors.totp.enabled && (
        <>
          <p className="muted">
            Off. With an authenticator app (such as Google Authenticator, Microsoft Authenticator or 1Password), signing in from a new
            browser asks for the 6-digit code the app shows.
          </p>
          <div className="buttons">
            <button type="button" className="button" disabled={start.busy} onClick={() => void start.run()}>
              {start.busy ? "Please wait…" : "Set up an authenticator app"}
            </button>
          </div>
          {start.error && <p role="alert" className="alert">{start.error}</p>}
        </>
      )}
      {step.kind === "idle" && props.factors.totp.enabled && (
        <>
          <p>
            <span className="badge ok">on</span> since {formatTime(props.factors.totp.enabledAt)} ·{" "}
            {props.factors.recoveryCodesLeft} of 10 recovery codes left
          </p>
          {props.factors.recoveryCodesLeft <= 3 && (
            <p className="muted">Few recovery codes are left: turn the app off and on again for a new set.</p>
          )}
          <Form submitLabel="Turn off" onSubmit={turnOff} secondary resetOnSuccess label="Turn off the authenticator app">
            <Field label="A current code from the app, or your password" name="proof" type="password" autoComplete="off" required maxLength={1024}
              hint="Turning it off also voids your recovery codes." />
          </Form>
        </>
      )}
    </Card>
  );
}

function Enrol(props: { enrolment: Enrolment; onConfirm(values: Record<string, string>): Promise<void>; onCancel(): void }) {
  const grouped = props.enrolment.secret.match(/.{1,4}/g)?.join(" ") ?? props.enrolment.secret;
  return (
    <div className="enrol">
      <ol className="steps">
        <li>
          <p>Scan this code with your authenticator app:</p>
          <QrCode text={props.enrolment.otpauthUri} label="QR code for your authenticator app" />
          <p className="muted">
            Or enter this key by hand (time-based, 6 digits):{" "}
          </p>
          <code className="secret-value" data-testid="totp-secret" aria-label="Set-up key">{grouped}</code>
          <p className="muted">On a phone? <a href={props.enrolment.otpauthUri}>Open it in the authenticator app</a>.</p>
        </li>
        <li>
          <Form submitLabel="Turn on" onSubmit={props.onConfirm} label="Confirm the authenticator app">
            <Field label="The 6-digit code the app shows now" name="code" inputMode="numeric" autoComplete="one-time-code" required
              pattern="[0-9]{6}" maxLength={6} autoFocus />
          </Form>
        </li>
      </ol>
      <p className="aside"><button type="button" className="linkish" onClick={props.onCancel}>Cancel the set-up</button></p>
    </div>
  );
}

function RecoveryCodes(props: { codes: string[]; onDone(): Promise<void> }) {
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const done = useAction(props.onDone);
  const copy = async () => {
    await navigator.clipboard.writeText(props.codes.join("\n")).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <div className="secret" role="status">
      <p><strong>Your recovery codes.</strong> Save them now, somewhere other than your phone: they will not be shown again.</p>
      <p className="muted">If you lose the authenticator app, each code signs you in once in its place.</p>
      <ol className="recovery-codes" aria-label="Recovery codes">
        {props.codes.map((code) => <li key={code}><code>{code}</code></li>)}
      </ol>
      <div className="buttons">
        <button type="button" className="button small secondary" onClick={copy}>{copied ? "Copied" : "Copy all"}</button>
      </div>
      <label className="check">
        <input type="checkbox" checked={saved} onChange={(event) => setSaved(event.currentTarget.checked)} />
        <span>I saved these codes somewhere safe</span>
      </label>
      <button type="button" className="button" disabled={!saved || done.busy} onClick={() => void done.run()}>Done</button>
    </div>
  );
}
