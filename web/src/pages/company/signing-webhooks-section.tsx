// The company's webhooks for signature request events (sent, signed, declined, completed, …): an https
// receiver and its signing secret, shown once; each webhook lists its recent deliveries and retries.
import { useCallback, useState } from "react";
import { api, apiPath } from "../../api.ts";
import { ActionButton, Alert, Field, Form, useLoaded } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import { OneTimeSecret } from "../../components/one-time-secret.tsx";
import { formatTime } from "../../format.ts";

type Delivery = { event: string; status: string; attempts: number; httpStatus: number | null; error: string | null; createdAt: string };
type Webhook = { id: string; url: string; createdAt: string; recentDeliveries: Delivery[] };

export function SigningWebhooksSection(props: { tenantId: string }) {
  const base = apiPath`/v1/tenants/${props.tenantId}/signing-webhooks`;
  const load = useCallback(() => api.get<{ webhooks: Webhook[] }>(base).then((answer) => answer.webhooks), [base]);
  const hooks = useLoaded(load, props.tenantId);
  const [secret, setSecret] = useState<string | null>(null);
  const add = async (values: Record<string, string>) => {
    const created = await api.post<{ secret: string }>(base, { url: (values.url ?? "").trim() });
    setSecret(created.secret);
    await hooks.reload();
  };
  return (
    <Card title="Signature webhooks">
      <p className="muted">Each signature request event is posted as JSON to these https addresses, signed in the <code>X-Strongroom-Signature</code> header (HMAC-SHA256 over timestamp and body with the secret), and retried with growing waits when the receiver fails.</p>
      {secret && <OneTimeSecret title="Webhook added." value={secret} testId="signing-webhook-secret" onDone={() => setSecret(null)} />}
      {hooks.error && <Alert>{hooks.error}</Alert>}
      <ul className="rows" aria-label="Signature webhooks">
        {hooks.data?.length === 0 && <li className="row muted">No webhooks.</li>}
        {hooks.data?.map((hook) => (
          <li key={hook.id} className="row">
            <div className="row-main">
              <code>{hook.url}</code>
              <span className="muted"> · added {formatTime(hook.createdAt)}</span>
              {hook.recentDeliveries[0] && (
                <p className="muted">Last: {hook.recentDeliveries[0].event} · {hook.recentDeliveries[0].status} after {hook.recentDeliveries[0].attempts} attempt(s){hook.recentDeliveries[0].error ? ` · ${hook.recentDeliveries[0].error}` : ""}</p>
              )}
            </div>
            <div className="row-actions">
              <ActionButton label="Remove" danger confirm="Remove this webhook?" action={async () => { await api.delete(`${base}/${encodeURIComponent(hook.id)}`); await hooks.reload(); }} />
            </div>
          </li>
        ))}
      </ul>
      <Form submitLabel="Add webhook" onSubmit={add} secondary resetOnSuccess label="New signature webhook">
        <Field label="Receiver URL (https)" name="url" type="url" required maxLength={2048} placeholder="https://hooks.example.com/strongroom" />
      </Form>
    </Card>
  );
}
