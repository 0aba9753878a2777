// API keys of a company: created with scopes and an optional expiry, shown exactly once, listed with
// their last use, and revoked at once.
import { useCallback, useState } from "react";
import { api, apiPath, ApiError } from "../../api.ts";
import { ActionButton, Alert, Field, Form, useLoaded } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";

type ApiKey = {
  id: string; name: string; scopes: string[]; createdAt: string; expiresAt: string | null;
  revokedAt: string | null; lastUsedAt: string | null; lastUsedIp: string | null;
};

const scopes = [
  { name: "read", label: "read", hint: "see the company's data" },
  { name: "write", label: "write", hint: "change documents and pages" },
  { name: "sign", label: "sign", hint: "send documents for signature" },
  { name: "admin", label: "admin", hint: "everything, including members and keys" },
];

export function ApiKeysSection(props: { tenantId: string }) {
  const load = useCallback(() => api.get<{ apiKeys: ApiKey[] }>(apiPath`/v1/tenants/${props.tenantId}/api-keys`).then((answer) => answer.apiKeys), [props.tenantId]);
  const keys = useLoaded(load, props.tenantId);
  const [created, setCreated] = useState<{ name: string; secret: string } | undefined>();

  const create = async (values: Record<string, string>, data: FormData) => {
    const chosen = data.getAll("scopes").filter((value): value is string => typeof value === "string");
    if (chosen.length === 0) throw new ApiError(0, "no_scope", "Choose at least one scope.");
    const expiresAt = values.expiresOn ? new Date(`${values.expiresOn}T23:59:59Z`).toISOString() : undefined;
    const answer = await api.post<{ id: string; key: string }>(apiPath`/v1/tenants/${props.tenantId}/api-keys`, { name: values.name, scopes: chosen, expiresAt });
    setCreated({ name: values.name ?? "", secret: answer.key });
    await keys.reload();
  };
  const revoke = async (keyId: string) => {
    await api.delete(apiPath`/v1/tenants/${props.tenantId}/api-keys/${keyId}`);
    await keys.reload();
  };

  return (
    <Card title="API keys">
      {created && <NewKey {...created} onDone={() => setCreated(undefined)} />}
      {keys.error && <Alert>{keys.error}</Alert>}
      {keys.data?.length === 0 && <p className="muted">No API keys yet.</p>}
      <ul className="rows" aria-label="API keys">
        {keys.data?.map((key) => (
          <li key={key.id} className="row">
            <div className="row-main">
              <strong>{key.name}</strong>
              <span className="muted"><code>{key.id}</code> · {key.scopes.join(", ")}</span>
              <span className="muted">
                created {formatTime(key.createdAt)} · last used {formatTime(key.lastUsedAt)}{key.lastUsedIp ? ` from ${key.lastUsedIp}` : ""}
                {key.expiresAt && ` · expires ${formatTime(key.expiresAt)}`}
              </span>
            </div>
            <div className="row-actions">
              {statusOf(key) === "active"
                ? <ActionButton label="Revoke" danger confirm="Revoke this key now?" action={() => revoke(key.id)} />
                : <span className="badge warn">{statusOf(key)}</span>}
            </div>
          </li>
        ))}
      </ul>
      <Form submitLabel="Create API key" onSubmit={create} resetOnSuccess secondary label="New API key">
        <Field label="Key name" name="name" required maxLength={200} hint="What uses it, e.g. “accounting export”." />
        <fieldset className="field">
          <legend>Scopes</legend>
          {scopes.map((scope) => (
            <label key={scope.name} className="check">
              <input type="checkbox" name="scopes" value={scope.name} defaultChecked={scope.name === "read"} />
              <span><strong>{scope.label}</strong> <span className="muted">{scope.hint}</span></span>
            </label>
          ))}
        </fieldset>
        <Field label="Expires on (optional)" name="expiresOn" type="date" />
      </Form>
    </Card>
  );
}

function statusOf(key: ApiKey): "active" | "revoked" | "expired" {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return "expired";
  return "active";
}

// `secret`, not `key`: React keeps a prop named key for itself.
function NewKey(props: { name: string; secret: string; onDone(): void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(props.secret).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <div className="secret" role="status">
      <p><strong>New key “{props.name}”.</strong> Copy it now: it will not be shown again.</p>
      <code className="secret-value" data-testid="new-api-key">{props.secret}</code>
      <p className="muted">Send it as HTTP Basic credentials (<code>Authorization: Basic base64(key)</code>).</p>
      <div className="buttons">
        <button type="button" className="button small" onClick={copy}>{copied ? "Copied" : "Copy"}</button>
        <button type="button" className="button small secondary" onClick={props.onDone}>I have saved it</button>
      </div>
    </div>
  );
}
