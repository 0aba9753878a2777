// Sign-up: a new company and its first owner. The answer is the same whether or not the address is
// already in use, so the next page only says to look in the mailbox.
import { api } from "../api.ts";
import { Field, Form } from "../components/form.tsx";
import { Page } from "../components/layout.tsx";
import { Link, navigate } from "../router.tsx";

export const minimumPasswordLength = 12;

export function SignUpPage() {
  const submit = async (values: Record<string, string>) => {
    await api.post("/v1/auth/signup", {
      companyName: values.companyName, name: values.name, email: values.email, password: values.password,
    });
    navigate("/check-email");
  };
  return (
    <Page title="Create your company" intro="Start a secure workspace for your company. You will be its owner." narrow>
      <Form submitLabel="Create account" onSubmit={submit} label="Sign up">
        <Field label="Company name" name="companyName" autoComplete="organization" required maxLength={200} />
        <Field label="Your name" name="name" autoComplete="name" required maxLength={200} />
        <Field label="E-mail" name="email" type="email" autoComplete="email" required maxLength={254} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required
          minLength={minimumPasswordLength} maxLength={256}
          hint={`At least ${minimumPasswordLength} characters. A few unusual words are easy to remember and hard to guess.`} />
      </Form>
      <p className="aside">Already have an account? <Link to="/login">Sign in</Link></p>
    </Page>
  );
}

export function CheckEmailPage() {
  return (
    <Page title="Check your e-mail" narrow>
      <div className="card">
        <p>If the address can be used, we have sent a link to confirm it. Open the link on this device to finish.</p>
        <p className="muted">The link is valid for 24 hours. Nothing arrived? Look in the spam folder, or sign up again.</p>
      </div>
      <p className="aside"><Link to="/login">Back to sign in</Link></p>
    </Page>
  );
}
