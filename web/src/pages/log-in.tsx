// Sign-in in steps: the password, then whatever the server asks for next (a code sent to a new
// device, a second factor), until it answers "signed_in". Or sign-in with an outside provider
// (Google, Microsoft, another OpenID Connect issuer): a plain link, since the provider's pages and
// the way back are full page loads that the server answers with redirects.
import { useCallback, useState } from "react";
import { api } from "../api.ts";
import { Field, Form, useLoaded } from "../components/form.tsx";
import { Page } from "../components/layout.tsx";
import { Link, navigate } from "../router.tsx";
import { useSession } from "../session.tsx";
import { SecondFactorStep } from "./second-factor-step.tsx";

export type SignInAnswer =
  | { status: "signed_in"; csrfToken: string }
  | { status: "code_required"; challengeToken: string; channel: "email" | "sms" }
  | { status: "second_factor_required"; challengeToken: string; methods: string[] };

type Step =
  | { kind: "password" }
  | { kind: "device_code"; challengeToken: string; channel: "email" | "sms" }
  | { kind: "second_factor"; challengeToken: string; methods: string[] };

export function LogInPage() {
  const [step, setStep] = useState<Step>({ kind: "password" });
  const { refresh } = useSession();

  const follow = async (answer: SignInAnswer) => {
    switch (answer.status) {
      case "signed_in":
        await refresh();
        navigate("/", { replace: true });
        return;
      case "code_required":
        setStep({ kind: "device_code", challengeToken: answer.challengeToken, channel: answer.channel });
        return;
      case "second_factor_required":
        setStep({ kind: "second_factor", challengeToken: answer.challengeToken, methods: answer.methods });
        return;
    }
  };
  const startOver = () => setStep({ kind: "password" });

  if (step.kind === "device_code") return <DeviceCodeStep {...step} onAnswer={follow} onStartOver={startOver} />;
  if (step.kind === "second_factor") return <SecondFactorStep {...step} onAnswer={follow} onStartOver={startOver} />;

  const submit = async (values: Record<string, string>) => {
    await follow(await api.post<SignInAnswer>("/v1/auth/login", { email: values.email, password: values.password }));
  };
  return (
    <Page title="Sign in" narrow>
      <Form submitLabel="Sign in" onSubmit={submit} label="Sign in">
        <Field label="E-mail" name="email" type="email" autoComplete="username" required maxLength={254} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required maxLength={1024} />
      </Form>
      <OutsideProviders />
      <p className="aside"><Link to="/reset-password">Forgot your password?</Link></p>
      <p className="aside">New here? <Link to="/signup">Create a company</Link></p>
    </Page>
  );
}

type Provider = { id: string; kind: string; startUrl: string };

const providerNames: Record<string, string> = { google: "Google", microsoft: "Microsoft" };
// Only the server's own start route: nothing else may become a sign-in button.
const startPath = /^\/v1\/auth\/oidc\/[a-z0-9][a-z0-9-]{0,31}\/start$/;

function OutsideProviders() {
  // A server without outside providers has no such route: then there are simply no buttons.
  const load = useCallback(() => api.get<{ providers: Provider[] }>("/v1/auth/oidc/providers").then((answer) => answer.providers, () => []), []);
  const providers = (useLoaded(load, "providers").data ?? []).filter((provider) => startPath.test(provider.startUrl));
  if (providers.length === 0) return null;
  return (
    <div className="providers" aria-label="Sign in with another account" role="group">
      <p className="divider"><span>or</span></p>
      {providers.map((provider) => (
        <a key={provider.id} className="button secondary provider" href={provider.startUrl}>
          Sign in with {providerNames[provider.kind] ?? provider.id[0]!.toUpperCase() + provider.id.slice(1)}
        </a>
      ))}
    </div>
  );
}

type DeviceCodeStepProps = { challengeToken: string; channel: "email" | "sms"; onAnswer(answer: SignInAnswer): Promise<void>; onStartOver(): void };

function DeviceCodeStep(props: DeviceCodeStepProps) {
  const where = props.channel === "sms" ? "your phone by text message" : "your e-mail address";
  const submit = async (values: Record<string, string>) => {
    await props.onAnswer(await api.post<SignInAnswer>("/v1/auth/login/code", { challengeToken: props.challengeToken, code: values.code }));
  };
  return (
    <Page title="Check it is you" narrow intro={`This browser is new to us, so we sent a 6-digit code to ${where}. It is valid for 10 minutes.`}>
      <Form submitLabel="Continue" onSubmit={submit} label="Confirm the new device">
        <Field label="Sign-in code" name="code" inputMode="numeric" autoComplete="one-time-code" required
          pattern="[0-9]{6}" maxLength={6} autoFocus />
      </Form>
      <p className="aside">
        No code, or too many tries? <button type="button" className="linkish" onClick={props.onStartOver}>Start again</button>
      </p>
    </Page>
  );
}
