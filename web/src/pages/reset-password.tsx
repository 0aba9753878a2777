// Password reset: asking for the link (/reset-password), and choosing the new password from the
// link (/reset-password#token=…), which also signs the account out everywhere.
import { useState } from "react";
import { api, ApiError } from "../api.ts";
import { Field, Form, Notice } from "../components/form.tsx";
import { Page } from "../components/layout.tsx";
import { Link, useFragmentToken } from "../router.tsx";
import { useSession } from "../session.tsx";
import { minimumPasswordLength } from "./sign-up.tsx";

export function ResetPasswordPage() {
  const token = useFragmentToken();
  return token ? <ChooseNewPassword key={token} token={token} /> : <RequestReset />;
}

function RequestReset() {
  const [sent, setSent] = useState(false);
  const submit = async (values: Record<string, string>) => {
    await api.post("/v1/auth/password-reset", { email: values.email });
    setSent(true);
  };
  return (
    <Page title="Reset your password" narrow intro="We will e-mail you a link to choose a new password.">
      {sent
        ? <div className="card"><Notice>If the address has an account, a reset link is on its way. It is valid for 60 minutes.</Notice></div>
        : (
          <Form submitLabel="Send the link" onSubmit={submit} label="Reset password">
            <Field label="E-mail" name="email" type="email" autoComplete="email" required maxLength={254} />
          </Form>
        )}
      <p className="aside"><Link to="/login">Back to sign in</Link></p>
    </Page>
  );
}

function ChooseNewPassword(props: { token: string }) {
  const [done, setDone] = useState(false);
  const { forget } = useSession();
  const submit = async (values: Record<string, string>) => {
    if (values.password !== values.repeat) throw new ApiError(0, "mismatch", "The two passwords differ.");
    await api.post("/v1/auth/password-reset/complete", { token: props.token, password: values.password });
    forget();
    setDone(true);
  };
  return (
    <Page title="Choose a new password" narrow>
      {done
        ? (
          <div className="card">
            <Notice>Your password is changed, and every session of your account has been signed out.</Notice>
            <Link to="/login" className="button">Sign in</Link>
          </div>
        )
        : (
          <Form submitLabel="Change password" onSubmit={submit} label="Choose a new password">
            <Field label="New password" name="password" type="password" autoComplete="new-password" required
              minLength={minimumPasswordLength} maxLength={256} hint={`At least ${minimumPasswordLength} characters.`} />
            <Field label="Repeat the new password" name="repeat" type="password" autoComplete="new-password" required maxLength={256} />
          </Form>
        )}
    </Page>
  );
}
