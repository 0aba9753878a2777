// The company's audit log for owners and admins: every request that touched the company, newest
// first, filtered by who, what and when, paged with the server's `next`, and exported as CSV or JSON
// lines through ordinary download links (cookie-authenticated GETs with the same filters).
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { api, apiPath, messageOf } from "../../api.ts";
import { Alert, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { formatExactTime } from "../../format.ts";
import { atLeast, currentCompany, type Role, type Session } from "../../session.tsx";
import { CompanyNav } from "./company-nav.tsx";
import type { Member } from "./company-page.tsx";

type AuditRecord = {
  id: string;
  seq: number;
  at: string;
  actor: { type: string; id: string | null };
  subjectId: string | null;
  ip: string;
  action: string;
  object: Record<string, string>;
  details: Record<string, unknown>;
  result: "ok" | "denied" | "error" | "pending";
  status: number | null;
  errorCode: string | null;
};
type Filters = { actor: string; action: string; from: string; to: string };

const pageSize = 50;
const noFilters: Filters = { actor: "", action: "", from: "", to: "" };

export function AuditPage(props: { session: Session }) {
  const company = currentCompany(props.session);
  if (!company) return <Page title="Audit log"><p className="muted">You do not belong to an active company.</p></Page>;
  if (!atLeast(company.role, "admin")) {
    return (
      <Page title={company.name}>
        <CompanyNav role={company.role} />
        <p className="muted">Only the company's owners and admins can read its audit log.</p>
      </Page>
    );
  }
  return <AuditLog key={company.id} tenantId={company.id} name={company.name} role={company.role} />;
}

function queryOf(filters: Filters, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...filters, ...extra })) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `?${text}` : "";
}

// <input type="datetime-local"> gives the reader's local time without a zone; the server wants UTC.
function isoOf(local: string): string {
  if (!local) return "";
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? "" : time.toISOString();
}

function AuditLog(props: { tenantId: string; name: string; role: Role }) {
  const loadMembers = useCallback(
    () => api.get<{ members: Member[] }>(apiPath`/v1/tenants/${props.tenantId}/members`).then((answer) => answer.members),
    [props.tenantId],
  );
  const members = useLoaded(loadMembers, props.tenantId);
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const sequence = useRef(0);
  const basePath = apiPath`/v1/tenants/${props.tenantId}/audit`;

  // A page of records; `before` continues after the last one shown. Answers to older requests are dropped.
  const loadPage = useCallback(async (applied: Filters, before: number | null) => {
    const mine = ++sequence.current;
    setLoading(true);
    setError(null);
    try {
      const extra: Record<string, string> = { limit: String(pageSize) };
      if (before !== null) extra.before = String(before);
      const page = await api.get<{ records: AuditRecord[]; next: number | null }>(basePath + queryOf(applied, extra));
      if (mine !== sequence.current) return;
      setRecords((shown) => (before === null ? page.records : [...shown, ...page.records]));
      setNext(page.next);
    } catch (failure) {
      if (mine === sequence.current) setError(messageOf(failure));
    } finally {
      if (mine === sequence.current) setLoading(false);
    }
  }, [basePath]);

  useEffect(() => {
    void loadPage(filters, null);
  }, [filters, loadPage]);

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    setFilters({ actor: text("actor"), action: text("action"), from: isoOf(text("from")), to: isoOf(text("to")) });
  };
  // The form's own reset empties the fields.
  const clear = () => setFilters(noFilters);

  const names = new Map((members.data ?? []).map((member) => [member.userId, member.name]));
  const who = (record: AuditRecord) => {
    if (record.actor.type === "user" && record.actor.id) return names.get(record.actor.id) ?? `user ${record.actor.id}`;
    if (record.actor.type === "api_key" && record.actor.id) return `API key ${record.actor.id}`;
    return record.actor.type === "anonymous" ? "not signed in" : record.actor.type;
  };
  const actions = [...new Set(records.map((record) => record.action))].sort();
  const exportPath = (format: "csv" | "jsonl") => `${basePath}/export${queryOf(filters, { format })}`;

  return (
    <Page title={props.name}>
      <CompanyNav role={props.role} />
      <Card title="Audit log">
        <p className="muted">Every request that read or changed this company's data, newest first. Records cannot be changed or removed.</p>
        <form className="form inline filters" onSubmit={apply} onReset={clear} aria-label="Filter the audit log">
          <div className="field">
            <label htmlFor="audit-actor">Who</label>
            <select id="audit-actor" name="actor" defaultValue="">
              <option value="">Anyone</option>
              {(members.data ?? []).map((member) => <option key={member.userId} value={member.userId}>{member.name}</option>)}
            </select>
          </div>
          <div className="field">
            <label htmlFor="audit-action">Action</label>
            <input id="audit-action" name="action" list="audit-actions" maxLength={200} placeholder="e.g. POST /v1/tenants/:tenantId/invitations" spellCheck={false} />
            <datalist id="audit-actions">{actions.map((action) => <option key={action} value={action} />)}</datalist>
          </div>
          <div className="field">
            <label htmlFor="audit-from">From</label>
            <input id="audit-from" name="from" type="datetime-local" />
          </div>
          <div className="field">
            <label htmlFor="audit-to">Until</label>
            <input id="audit-to" name="to" type="datetime-local" />
          </div>
          <div className="buttons">
            <button type="submit" className="button">Filter</button>
            <button type="reset" className="button secondary">Clear</button>
          </div>
        </form>
        <p className="exports">
          Download {filters === noFilters ? "everything" : "what the filter selects"}:{" "}
          <a href={exportPath("csv")} download>CSV</a> · <a href={exportPath("jsonl")} download>JSON lines</a>
        </p>
        {error && <Alert>{error}</Alert>}
        {!loading && !error && records.length === 0 && <p className="muted">No records match.</p>}
        {records.length > 0 && (
          <div className="table-scroll">
            <table className="table audit" aria-label="Audit records">
              <thead>
                <tr><th scope="col">When</th><th scope="col">Who, from where</th><th scope="col">Action</th><th scope="col">Result</th></tr>
              </thead>
              <tbody>
                {records.map((record) => (
                  <tr key={record.id}>
                    <td data-label="When"><time dateTime={record.at}>{formatExactTime(record.at)}</time></td>
                    <td data-label="Who"><div>{who(record)}<br /><code className="muted">{record.ip}</code></div></td>
                    <td data-label="Action">
                      <div>
                        <code>{breakableAction(record.action)}</code>
                        {describe(record) && <span className="audit-details">{describe(record)}</span>}
                      </div>
                    </td>
                    <td data-label="Result">
                      <div>
                        <span className={record.result === "ok" ? "badge ok" : "badge warn"}>{record.result}</span>
                        {record.status !== null && <span className="muted"> {record.status}</span>}
                        {record.errorCode && <span className="audit-details">{record.errorCode}</span>}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {loading && <p className="muted" aria-live="polite">Loading…</p>}
        {!loading && next !== null && (
          <div className="buttons">
            <button type="button" className="button secondary" onClick={() => void loadPage(filters, next)}>Show older records</button>
          </div>
        )}
      </Card>
    </Page>
  );
}

// "GET /v1/tenants/:tenantId/members" may wrap after a slash, not inside a word.
function breakableAction(action: string): ReactNode[] {
  return action.split("/").flatMap((part, index) => (index === 0 ? [part] : [<wbr key={index} />, `/${part}`]));
}

// The object (route parameters other than the company itself) and the details, as short key=value text.
function describe(record: AuditRecord): string {
  const parts = [
    ...Object.entries(record.object).filter(([name]) => name !== "tenantId").map(([name, value]) => `${name}=${value}`),
    ...Object.entries(record.details).map(([name, value]) => `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`),
  ];
  return parts.join(" · ");
}
