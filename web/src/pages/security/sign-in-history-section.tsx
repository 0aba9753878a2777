// The last sign-ins to this account, successful or not, from the audit trail: when, how and from where.
import { useCallback } from "react";
import { api } from "../../api.ts";
import { Alert, useLoaded } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";

type SignIn = { at: string; ip: string; result: "ok" | "denied" | "error" | "pending"; errorCode: string | null; action: string };

const steps: Record<string, string> = {
  "POST /v1/auth/login": "password",
  "POST /v1/auth/login/code": "code for a new browser",
  "POST /v1/auth/login/totp": "authenticator app",
  "POST /v1/auth/login/recovery-code": "recovery code",
  "POST /v1/auth/login/passkey/verify": "passkey",
  "GET /v1/auth/oidc/:providerId/callback": "outside provider",
};

// A wrong code is a 400 ("error" in the trail), a wrong password a 401 ("denied"): to the person both are refusals.
const resultNames: Record<SignIn["result"], string> = { ok: "ok", denied: "refused", error: "refused", pending: "unfinished" };

export function SignInHistorySection(props: { userId: string }) {
  const load = useCallback(() => api.get<{ signIns: SignIn[] }>("/v1/auth/sign-ins").then((answer) => answer.signIns), []);
  const history = useLoaded(load, props.userId);
  return (
    <Card title="Recent sign-ins">
      <p className="muted">Each step of every sign-in to your account, newest first. A refusal you do not recognise means someone else tried: change your password.</p>
      {history.error && <Alert>{history.error}</Alert>}
      {history.data?.length === 0 && <p className="muted">No sign-ins recorded yet.</p>}
      {history.data && history.data.length > 0 && (
        <div className="table-scroll">
          <table className="table" aria-label="Sign-in history">
            <thead>
              <tr><th scope="col">When</th><th scope="col">Step</th><th scope="col">From</th><th scope="col">Result</th></tr>
            </thead>
            <tbody>
              {history.data.map((signIn, index) => (
                <tr key={`${signIn.at}-${index}`}>
                  <td data-label="When">{formatTime(signIn.at)}</td>
                  <td data-label="Step">{steps[signIn.action] ?? signIn.action}</td>
                  <td data-label="From"><code>{signIn.ip}</code></td>
                  <td data-label="Result">
                    <div>
                      <span className={signIn.result === "ok" ? "badge ok" : "badge warn"}>{resultNames[signIn.result]}</span>
                      {signIn.errorCode && <span className="muted"> {signIn.errorCode.replace(/_/g, " ")}</span>}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
