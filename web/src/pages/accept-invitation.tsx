// Opened from an invitation e-mail (/accept-invitation#token=…). A person with an account joins at
// once; someone new is asked for a name and a password first (the link proves the e-mail address).
import { useState } from "react";
import { api, ApiError } from "../api.ts";
import { Alert, Field, Form, Notice } from "../components/form.tsx";
import { Page } from "../components/layout.tsx";
import { Link, navigate, useFragmentToken } from "../router.tsx";
import { useSession } from "../session.tsx";
import { minimumPasswordLength } from "./sign-up.tsx";

type State = "ready" | "new_account" | "joined";

export function AcceptInvitationPage() {
  const token = useFragmentToken();
  return <AcceptInvitation key={token ?? "none"} token={token} />;
}

function AcceptInvitation({ token }: { token: string | undefined }) {
  const [state, setState] = useState<State>("ready");
  const { session, refresh } = useSession();

  const accept = async (extra: { name?: string; password?: string }) => {
    try {
      await api.post("/v1/invitations/accept", { token, ...extra });
    } catch (error) {
      if (error instanceof ApiError && error.code === "validation_failed" && state === "ready") {
        setState("new_account");
        return;
      }
      throw error;
    }
    if (session) {
      await refresh();
      navigate("/");
    } else {
      setState("joined");
    }
  };

  if (!token) {
    return <Page title="Join a company" narrow><Alert>This link is incomplete. Open the whole link from the invitation e-mail.</Alert></Page>;
  }
  if (state === "joined") {
    return (
      <Page title="Welcome" narrow>
        <div className="card">
          <Notice>You have joined the company. Sign in to start.</Notice>
          <Link to="/login" className="button">Sign in</Link>
        </div>
      </Page>
    );
  }
  if (state === "new_account") {
    return (
      <Page title="Create your account" narrow intro="You are new to Strongroom: choose your name and a password to join.">
        <Form submitLabel="Create account and join" onSubmit={(values) => accept({ name: values.name, password: values.password })} label="New account">
          <Field label="Your name" name="name" autoComplete="name" required maxLength={200} />
          <Field label="Password" name="password" type="password" autoComplete="new-password" required
            minLength={minimumPasswordLength} maxLength={256} hint={`At least ${minimumPasswordLength} characters.`} />
        </Form>
      </Page>
    );
  }
  return (
    <Page title="Join a company" narrow intro={session ? `You are signed in as ${session.user.email}.` : "You have been invited to a company on Strongroom."}>
      <Form submitLabel="Accept the invitation" onSubmit={() => accept({})} label="Accept invitation" />
    </Page>
  );
}
