// How people sign in to this company: whether an outside provider (Google, Microsoft…) may be used,
// and whether owners and admins must have used a strong second factor (authenticator app or passkey)
// before they change anything.
import { useCallback } from "react";
import { api, apiPath, ApiError } from "../../api.ts";
import { ActionButton, Alert, useLoaded } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";

type Rules = { oidcAllowed: boolean | null; requireAdminMfa: boolean };

export function SignInRulesSection(props: { tenantId: string }) {
  const load = useCallback(async (): Promise<Rules> => {
    const [oidc, security] = await Promise.all([
      // Without outside providers configured, the server has no such route.
      api.get<{ oidcAllowed: boolean }>(apiPath`/v1/tenants/${props.tenantId}/oidc`).then((answer) => answer.oidcAllowed, (error: unknown) => {
        if (error instanceof ApiError && error.code === "route_not_found") return null;
        throw error;
      }),
      api.get<{ requireAdminMfa: boolean }>(apiPath`/v1/tenants/${props.tenantId}/security`),
    ]);
    return { oidcAllowed: oidc, requireAdminMfa: security.requireAdminMfa };
  }, [props.tenantId]);
  const rules = useLoaded(load, props.tenantId);

  const setOidc = async (allowed: boolean) => {
    await api.put(apiPath`/v1/tenants/${props.tenantId}/oidc`, { allowed });
    await rules.reload();
  };
  const setMfa = async (requireAdminMfa: boolean) => {
    await api.put(apiPath`/v1/tenants/${props.tenantId}/security`, { requireAdminMfa });
    await rules.reload();
  };

  return (
    <Card title="Sign-in rules">
      {rules.error && <Alert>{rules.error}</Alert>}
      {rules.data && (
        <ul className="rows" aria-label="Sign-in rules">
          <li className="row">
            <div className="row-main">
              <strong>Strong second factor for owners and admins</strong>
              <span className="muted">
                When required, owners and admins must have signed in with an authenticator app or a passkey before they change anything here.
                To switch it on, sign in that way first.
              </span>
            </div>
            <div className="row-actions">
              <span className={rules.data.requireAdminMfa ? "badge ok" : "badge"}>{rules.data.requireAdminMfa ? "required" : "not required"}</span>
              {rules.data.requireAdminMfa
                ? <ActionButton label="Stop requiring" danger confirm="Let admins act without a strong second factor?" action={() => setMfa(false)} />
                : <ActionButton label="Require" action={() => setMfa(true)} />}
            </div>
          </li>
          <li className="row">
            <div className="row-main">
              <strong>Sign-in with an outside provider</strong>
              <span className="muted">
                {rules.data.oidcAllowed === null
                  ? "This server offers no outside sign-in providers."
                  : "Members may sign in with the Google, Microsoft or other accounts this server offers, instead of a password."}
              </span>
            </div>
            {rules.data.oidcAllowed !== null && (
              <div className="row-actions">
                <span className={rules.data.oidcAllowed ? "badge ok" : "badge"}>{rules.data.oidcAllowed ? "allowed" : "not allowed"}</span>
                {rules.data.oidcAllowed
                  ? <ActionButton label="Stop allowing" danger confirm="Members then sign in with their password only. Continue?" action={() => setOidc(false)} />
                  : <ActionButton label="Allow" action={() => setOidc(true)} />}
              </div>
            )}
          </li>
        </ul>
      )}
    </Card>
  );
}
