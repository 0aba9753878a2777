// Opened from the confirmation e-mail: sends the link's token once and says how it went.
import { useEffect, useRef, useState } from "react";
import { api, messageOf } from "../api.ts";
import { Alert, Notice } from "../components/form.tsx";
import { Page } from "../components/layout.tsx";
import { Link, useFragmentToken } from "../router.tsx";

type State = { kind: "working" } | { kind: "verified" } | { kind: "failed"; message: string };

export function VerifyEmailPage() {
  const token = useFragmentToken();
  return <VerifyEmail key={token ?? "none"} token={token} />;
}

function VerifyEmail({ token }: { token: string | undefined }) {
  const [state, setState] = useState<State>(token ? { kind: "working" } : { kind: "failed", message: "This link is incomplete. Open the whole link from the e-mail." });
  const sent = useRef(false);

  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    api.post("/v1/auth/verify-email", { token })
      .then(() => setState({ kind: "verified" }))
      .catch((error: unknown) => setState({ kind: "failed", message: messageOf(error) }));
  }, [token]);

  return (
    <Page title="Confirm your e-mail" narrow>
      <div className="card">
        {state.kind === "working" && <p aria-live="polite">Confirming your address…</p>}
        {state.kind === "verified" && <Notice>Your e-mail address is confirmed. You can sign in now.</Notice>}
        {state.kind === "failed" && <Alert>{state.message}</Alert>}
        {state.kind !== "working" && <Link to="/login" className="button">Sign in</Link>}
      </div>
    </Page>
  );
}
