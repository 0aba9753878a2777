// Company → Data and privacy: the register of sub-processors (every member), retention settings
// (admins), the whole-company export and erasure of the company (owners). The server checks each again.
import { useCallback, useState } from "react";
import { api, apiPath, postAndSave } from "../../api.ts";
import { ActionButton, Alert, Field, Form, Notice, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { atLeast, currentCompany, useSession, type Session } from "../../session.tsx";
import { CompanyNav } from "./company-nav.tsx";

type SubProcessor = { name: string; purpose: string; location: string; dataCategories: string[]; url?: string };
type Retention = { trashDays: number | null; auditYears: number | null };

export function CompanyPrivacyPage(props: { session: Session }) {
  const { refresh } = useSession();
  // Kept here: once the session is refreshed the erased company is no longer current.
  const [erased, setErased] = useState<string>();
  const company = currentCompany(props.session);
  if (erased) return <Page title="Company erased"><p>{erased} and all its data have been erased.</p></Page>;
  if (!company) return <Page title="Data and privacy"><p className="muted">You do not belong to an active company.</p></Page>;
  const onErased = async (name: string) => {
    setErased(name);
    await refresh();
  };
  return <PrivacySections key={company.id} tenantId={company.id} name={company.name} role={company.role} onErased={onErased} />;
}

function PrivacySections(props: { tenantId: string; name: string; role: Parameters<typeof atLeast>[0]; onErased(name: string): Promise<void> }) {
  const loadProcessors = useCallback(() => api.get<{ subProcessors: SubProcessor[] }>(apiPath`/v1/tenants/${props.tenantId}/sub-processors`), [props.tenantId]);
  const processors = useLoaded(loadProcessors, props.tenantId);
  const eraseCompany = async (values: Record<string, string>) => {
    await api.post(apiPath`/v1/tenants/${props.tenantId}/erasure`, { companyName: values.companyName ?? "" });
    await props.onErased(props.name);
  };
  return (
    <Page title="Data and privacy" intro={props.name}>
      <CompanyNav role={props.role} />
      <Card title="Sub-processors">
        <p className="muted">Other companies that process this company's data on the operator's behalf.</p>
        {processors.error && <Alert>{processors.error}</Alert>}
        {processors.data && processors.data.subProcessors.length === 0 && <p>None: no other company processes your data.</p>}
        <ul className="rows" aria-label="Sub-processors">
          {processors.data?.subProcessors.map((processor) => (
            <li key={processor.name} className="row">
              <div className="row-main">
                <strong>{processor.url ? <a href={processor.url} rel="noreferrer" target="_blank">{processor.name}</a> : processor.name}</strong>
                <span className="muted"> — {processor.purpose}; {processor.location}{processor.dataCategories.length > 0 ? `; ${processor.dataCategories.join(", ")}` : ""}</span>
              </div>
            </li>
          ))}
        </ul>
      </Card>
      {atLeast(props.role, "admin") && <RetentionSection tenantId={props.tenantId} />}
      {props.role === "owner" && (
        <Card title="Export the company">
          <p className="muted">One archive (tar) with every document and page, all versions, folders, members, rights and the audit log.</p>
          <ActionButton label="Export company" action={() => postAndSave(apiPath`/v1/tenants/${props.tenantId}/export`, `strongroom-company-${props.tenantId}.tar`)} />
        </Card>
      )}
      {props.role === "owner" && (
        <Card title="Erase the company">
          <p className="muted">
            Every document, page, version, folder, group, API key and setting is destroyed for good: the company's keys are erased,
            so no copy, backup or replica can be read. Members keep their own accounts. Export the company first if you need it.
          </p>
          <Form submitLabel="Erase company" onSubmit={eraseCompany} label="Erase the company">
            <Field label={`Type the company's name (${props.name}) to confirm`} name="companyName" autoComplete="off" required />
          </Form>
        </Card>
      )}
    </Page>
  );
}

function RetentionSection(props: { tenantId: string }) {
  const load = useCallback(() => api.get<Retention>(apiPath`/v1/tenants/${props.tenantId}/retention`), [props.tenantId]);
  const current = useLoaded(load, props.tenantId);
  const [saved, setSaved] = useState(false);
  const save = async (values: Record<string, string>) => {
    setSaved(false);
    const number = (text: string | undefined) => (text && text.trim() !== "" ? Number(text) : null);
    await api.put(apiPath`/v1/tenants/${props.tenantId}/retention`, { trashDays: number(values.trashDays), auditYears: number(values.auditYears) });
    setSaved(true);
    await current.reload();
  };
  return (
    <Card title="Retention">
      <p className="muted">Leave a field empty to keep for ever.</p>
      {current.error && <Alert>{current.error}</Alert>}
      {current.data && (
        <Form submitLabel="Save retention" onSubmit={save} secondary label="Retention">
          <Field label="Delete documents from the trash after (days, 1–3650)" name="trashDays" type="number" min={1} max={3650} defaultValue={current.data.trashDays ?? ""} />
          <Field label="Keep the audit log for (years, 1–100)" name="auditYears" type="number" min={1} max={100} defaultValue={current.data.auditYears ?? ""} />
        </Form>
      )}
      {saved && <Notice>Saved.</Notice>}
    </Card>
  );
}
