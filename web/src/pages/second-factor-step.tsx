// The second-factor step of a sign-in (202 second_factor_required with the account's `methods`).
// Each method is one entry in `secondFactorMethods`; a method the app does not know is skipped. The
// strong ones (passkey, authenticator app, recovery code) are tabs; a code sent by e-mail or text
// message is offered below them as the fallback.
import { useState, type ComponentType } from "react";
import { api } from "../api.ts";
import { Alert, Field, Form, Notice, useAction } from "../components/form.tsx";
import { Page } from "../components/layout.tsx";
import { passkeyAssertion, passkeysSupported, type RequestOptionsJSON } from "../webauthn.ts";
import type { SignInAnswer } from "./log-in.tsx";

type MethodProps = { challengeToken: string; onAnswer(answer: SignInAnswer): Promise<void> };
type Method = { label: string; fallback?: boolean; Form: ComponentType<MethodProps> };

type CodeEntryProps = MethodProps & { path: string; label: string; hint: string; digits?: boolean; maxLength: number };

function CodeEntry(props: CodeEntryProps) {
  const submit = async (values: Record<string, string>) => {
    await props.onAnswer(await api.post<SignInAnswer>(props.path, { challengeToken: props.challengeToken, code: (values.code ?? "").trim() }));
  };
  return (
    <Form submitLabel="Continue" onSubmit={submit}>
      <Field label={props.label} name="code" hint={props.hint} autoComplete="one-time-code" required maxLength={props.maxLength} autoFocus
        inputMode={props.digits ? "numeric" : "text"} pattern={props.digits ? "[0-9]{6}" : undefined} spellCheck={false} />
    </Form>
  );
}

// The passkey: the server's options for this sign-in, the browser's prompt, and the signed answer.
function PasskeyEntry(props: MethodProps) {
  const { busy, error, run } = useAction(async () => {
    const options = await api.post<RequestOptionsJSON>("/v1/auth/login/passkey/options", { challengeToken: props.challengeToken });
    const response = await passkeyAssertion(options);
    await props.onAnswer(await api.post<SignInAnswer>("/v1/auth/login/passkey/verify", { challengeToken: props.challengeToken, response }));
  });
  return (
    <div className="form">
      <p className="muted">Your browser will ask for the passkey: this device's screen lock, a phone or a security key.</p>
      {error && <Alert>{error}</Alert>}
      <button type="button" className="button" disabled={busy} onClick={() => void run()}>{busy ? "Waiting for the passkey…" : "Use a passkey"}</button>
    </div>
  );
}

// The fallback: a one-time code sent only when asked for, then entered like a new-device code.
function SentCode(props: MethodProps & { channel: "email" | "sms" }) {
  const [sent, setSent] = useState(false);
  const where = props.channel === "sms" ? "your phone" : "your e-mail address";
  if (!sent) {
    const send = async () => {
      await api.post("/v1/auth/login/send-code", { challengeToken: props.challengeToken });
      setSent(true);
    };
    return <Form submitLabel={`Send a code to ${where}`} onSubmit={send} secondary label="Send a code" />;
  }
  return (
    <>
      <Notice>We sent a 6-digit code to {where}. It is valid for 10 minutes.</Notice>
      <CodeEntry {...props} path="/v1/auth/login/code" label="Code we sent you" hint="The 6-digit code from the message." digits maxLength={6} />
    </>
  );
}

// In the order offered: the first one the account has is shown first.
const secondFactorMethods: Record<string, Method> = {
  passkey: { label: "Passkey", Form: PasskeyEntry },
  totp: {
    label: "Authenticator app",
    Form: (props) => <CodeEntry {...props} path="/v1/auth/login/totp" label="Code from your authenticator app" hint="The 6-digit code your app shows now." digits maxLength={6} />,
  },
  recovery_code: {
    label: "Recovery code",
    Form: (props) => <CodeEntry {...props} path="/v1/auth/login/recovery-code" label="Recovery code" hint="One of the recovery codes you saved. Each works once." maxLength={64} />,
  },
  email_code: { label: "E-mail code", fallback: true, Form: (props) => <SentCode {...props} channel="email" /> },
  sms_code: { label: "Text message", fallback: true, Form: (props) => <SentCode {...props} channel="sms" /> },
};

type Props = { challengeToken: string; methods: string[]; onAnswer(answer: SignInAnswer): Promise<void>; onStartOver(): void };

export function SecondFactorStep(props: Props) {
  const usable = Object.keys(secondFactorMethods).filter((method) => props.methods.includes(method));
  const strong = usable.filter((method) => !secondFactorMethods[method]!.fallback);
  const fallback = usable.find((method) => secondFactorMethods[method]!.fallback);
  // A browser without passkeys starts on the next method the account has.
  const [chosen, setChosen] = useState(usable.find((name) => name !== "passkey" || passkeysSupported()) ?? usable[0]);
  const method = chosen ? secondFactorMethods[chosen] : undefined;
  return (
    <Page title="Confirm it is you" narrow intro="Your account is protected by a second factor.">
      {strong.length > 1 && (
        <div className="tabs" role="tablist" aria-label="Second factor">
          {strong.map((name) => (
            <button key={name} type="button" role="tab" aria-selected={name === chosen} className={name === chosen ? "tab active" : "tab"} onClick={() => setChosen(name)}>
              {secondFactorMethods[name]!.label}
            </button>
          ))}
        </div>
      )}
      {method
        ? <method.Form key={chosen} challengeToken={props.challengeToken} onAnswer={props.onAnswer} />
        : <p className="alert" role="alert">This browser app cannot use your account's second factor yet ({props.methods.join(", ") || "none given"}).</p>}
      {fallback && chosen !== fallback && (
        <p className="aside">
          No access to these? <button type="button" className="linkish" onClick={() => setChosen(fallback)}>Send me a code instead</button>
        </p>
      )}
      {fallback && chosen === fallback && strong.length > 0 && (
        <p className="aside">
          <button type="button" className="linkish" onClick={() => setChosen(strong[0])}>Back to {secondFactorMethods[strong[0]!]!.label.toLowerCase()}</button>
        </p>
      )}
      <p className="aside"><button type="button" className="linkish" onClick={props.onStartOver}>Start again</button></p>
    </Page>
  );
}
