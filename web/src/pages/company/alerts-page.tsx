// Where the company's security alerts go, for owners and admins: signed webhooks and e-mail addresses,
// each for all or some event types, with the last delivery, a test send and removal. A webhook's
// signing secret is shown once, when it is made.
import { useCallback, useState } from "react";
import { api, apiPath, ApiError } from "../../api.ts";
import { ActionButton, Alert, Field, Form, Notice, useAction, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { OneTimeSecret } from "../../components/one-time-secret.tsx";
import { formatTime } from "../../format.ts";
import { atLeast, currentCompany, type Role, type Session } from "../../session.tsx";
import { CompanyNav } from "./company-nav.tsx";

type Delivery = { at: string; outcome: string; httpStatus: number | null; error: string | null };
type Channel = { id: string; kind: "webhook" | "email"; url?: string; email?: string; eventTypes: string[]; createdAt: string; lastDelivery: Delivery | null };
type Channels = { channels: Channel[]; limit: number };
type TestResult = { delivered: boolean; httpStatus: number | null; error: string | null };

// The events a company hears about (installation-wide ones go to the operator only).
const eventTypes = [
  { name: "new_device_login", label: "sign-in from a new device" },
  { name: "failed_login_burst", label: "many failed sign-ins" },
  { name: "credential_stuffing", label: "password-guessing across accounts" },
  { name: "mass_download", label: "unusually many downloads" },
  { name: "permission_escalation", label: "someone given more rights" },
  { name: "ban", label: "an address banned" },
  { name: "malware_detected", label: "malware in an upload" },
  { name: "data_erased", label: "a member's data erased" },
];
const eventLabel = new Map(eventTypes.map((type) => [type.name, type.label]));

export function AlertsPage(props: { session: Session }) {
  const company = currentCompany(props.session);
  if (!company) return <Page title="Security alerts"><p className="muted">You do not belong to an active company.</p></Page>;
  if (!atLeast(company.role, "admin")) {
    return (
      <Page title={company.name}>
        <CompanyNav role={company.role} />
        <p className="muted">Only the company's owners and admins can set up security alerts.</p>
      </Page>
    );
  }
  return <AlertChannels key={company.id} tenantId={company.id} name={company.name} role={company.role} />;
}

function AlertChannels(props: { tenantId: string; name: string; role: Role }) {
  const basePath = apiPath`/v1/tenants/${props.tenantId}/alert-channels`;
  // A server without alerting configured has no such route.
  const load = useCallback(() => api.get<Channels>(basePath).catch((error: unknown) => {
    if (error instanceof ApiError && error.code === "route_not_found") return null;
    throw error;
  }), [basePath]);
  const channels = useLoaded(load, props.tenantId);
  const [kind, setKind] = useState<"webhook" | "email">("webhook");
  const [created, setCreated] = useState<{ url: string; secret: string } | undefined>();
  const [notice, setNotice] = useState<string | null>(null);

  const create = async (values: Record<string, string>, data: FormData) => {
    setNotice(null);
    const chosen = data.getAll("eventTypes").filter((value): value is string => typeof value === "string");
    const target = (values.target ?? "").trim();
    const answer = await api.post<Channel & { secret?: string }>(basePath, { kind, ...(kind === "webhook" ? { url: target } : { email: target }), eventTypes: chosen });
    if (answer.secret) setCreated({ url: answer.url ?? target, secret: answer.secret });
    else setNotice(`Alerts will be e-mailed to ${answer.email ?? target}.`);
    await channels.reload();
  };
  const remove = async (channelId: string) => {
    setNotice(null);
    await api.delete(apiPath`/v1/tenants/${props.tenantId}/alert-channels/${channelId}`);
    await channels.reload();
  };

  const list = channels.data?.channels ?? [];
  return (
    <Page title={props.name}>
      <CompanyNav role={props.role} />
      <Card title="Security alerts">
        <p className="muted">
          Where to tell you at once about sign-ins from new devices, bursts of failed sign-ins, unusual downloads and more. Webhooks are
          signed (header <code>X-Strongroom-Signature</code>: an HMAC-SHA256 with the channel's secret).
        </p>
        {channels.error && <Alert>{channels.error}</Alert>}
        {channels.data === null && <Notice>Security alerts are not set up on this server.</Notice>}
        {created && (
          <OneTimeSecret title={`Webhook for ${created.url}.`} value={created.secret} testId="new-webhook-secret" onDone={() => setCreated(undefined)}>
            <p className="muted">Your receiver checks each alert's signature with this secret.</p>
          </OneTimeSecret>
        )}
        {notice && <Notice>{notice}</Notice>}
        {channels.data && list.length === 0 && <p className="muted">No alert channels yet.</p>}
        <ul className="rows" aria-label="Alert channels">
          {list.map((channel) => (
            <li key={channel.id} className="row">
              <div className="row-main">
                <strong>{channel.kind === "webhook" ? channel.url : channel.email}</strong>
                <span className="muted">
                  {channel.kind === "webhook" ? "webhook" : "e-mail"} ·{" "}
                  {channel.eventTypes.length === 0 ? "every event" : channel.eventTypes.map((type) => eventLabel.get(type) ?? type).join(", ")}
                </span>
                <span className="muted">
                  added {formatTime(channel.createdAt)} · last delivery{" "}
                  {channel.lastDelivery ? `${formatTime(channel.lastDelivery.at)}: ${describeDelivery(channel.lastDelivery)}` : "never"}
                </span>
              </div>
              <div className="row-actions">
                <TestButton path={apiPath`/v1/tenants/${props.tenantId}/alert-channels/${channel.id}/test`} onDone={channels.reload} />
                <ActionButton label="Remove" danger confirm="Stop sending alerts here?" action={() => remove(channel.id)} />
              </div>
            </li>
          ))}
        </ul>
        {channels.data && list.length < channels.data.limit && (
          <Form submitLabel="Add channel" onSubmit={create} resetOnSuccess secondary label="New alert channel">
            <fieldset className="field">
              <legend>Send alerts by</legend>
              <label className="check">
                <input type="radio" name="kind" value="webhook" checked={kind === "webhook"} onChange={() => setKind("webhook")} />
                <span>webhook <span className="muted">an HTTPS address that receives signed JSON</span></span>
              </label>
              <label className="check">
                <input type="radio" name="kind" value="email" checked={kind === "email"} onChange={() => setKind("email")} />
                <span>e-mail</span>
              </label>
            </fieldset>
            {kind === "webhook"
              ? <Field key="url" label="Webhook address" name="target" type="url" required maxLength={2048} placeholder="https://alerts.example.com/strongroom" />
              : <Field key="email" label="E-mail address" name="target" type="email" required maxLength={254} />}
            <fieldset className="field">
              <legend>Events</legend>
              <small className="hint">None ticked: every event.</small>
              {eventTypes.map((type) => (
                <label key={type.name} className="check">
                  <input type="checkbox" name="eventTypes" value={type.name} />
                  <span>{type.label}</span>
                </label>
              ))}
            </fieldset>
          </Form>
        )}
      </Card>
    </Page>
  );
}

function describeDelivery(delivery: { outcome?: string; delivered?: boolean; httpStatus: number | null; error: string | null }): string {
  const outcome = delivery.outcome ?? (delivery.delivered ? "delivered" : "failed");
  return [outcome, delivery.httpStatus !== null ? `HTTP ${delivery.httpStatus}` : "", delivery.error ?? ""].filter(Boolean).join(", ");
}

function TestButton(props: { path: string; onDone(): Promise<void> }) {
  const [result, setResult] = useState<TestResult | null>(null);
  const { busy, error, run } = useAction(async () => {
    setResult(null);
    setResult(await api.post<TestResult>(props.path));
    await props.onDone();
  });
  return (
    <span className="action">
      <button type="button" className="button small secondary" disabled={busy} onClick={() => void run()}>{busy ? "Sending…" : "Send a test"}</button>
      {result && (result.delivered
        ? <span role="status" className="badge ok">test delivered</span>
        : <Alert>The test was not delivered: {describeDelivery(result)}.</Alert>)}
      {error && <Alert>{error}</Alert>}
    </span>
  );
}
