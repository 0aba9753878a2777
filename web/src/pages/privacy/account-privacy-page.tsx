// Account → Your data: download everything Strongroom holds about you (a tar archive, see
// docs/export-format.md) and erase your account (crypto-shredding of your personal fields).
import { api } from "../../api.ts";
import { Field, Form } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { useSession, type Session } from "../../session.tsx";
import { navigate } from "../../router.tsx";
import { AccountNav } from "../account.tsx";

export function AccountPrivacyPage(props: { session: Session }) {
  const { forget } = useSession();
  const erase = async (values: Record<string, string>) => {
    await api.post("/v1/me/erasure", { confirmEmail: values.confirmEmail ?? "" });
    navigate("/account-erased", { replace: true });
    forget();
  };
  return (
    <Page title="Account">
      <AccountNav />
      <Card title="Download your data">
        <p className="muted">
          One archive (tar) with your profile, company memberships, sessions, devices, sign-in history and activity, and every file
          and page you created, with a SHA-256 checksum for each file.
        </p>
        <a className="button secondary" href="/v1/me/export" download>Download my data</a>
      </Card>
      <Card title="Erase your account">
        <p className="muted">
          Your name, e-mail address and phone number are destroyed for good (their keys are erased, so no copy, backup or replica
          can be read). Files you created stay with your companies. If you are the only owner of a company, make someone else an
          owner or erase the company first.
        </p>
        <Form submitLabel="Erase my account" onSubmit={erase} label="Erase your account">
          <Field label={`Type your e-mail address (${props.session.user.email}) to confirm`} name="confirmEmail" type="email" autoComplete="off" required />
        </Form>
      </Card>
    </Page>
  );
}

// Shown after erasure, when there is no session any more.
export function AccountErasedPage() {
  return <Page title="Account erased"><p>Your account and personal data have been erased.</p></Page>;
}
