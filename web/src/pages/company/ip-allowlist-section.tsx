// The company's address allow-list: when it has entries, the company's data answers only to those
// addresses (people and API keys alike). The server refuses a list that leaves out the admin's own.
import { useState } from "react";
import { api, apiPath } from "../../api.ts";
import { Form, Notice } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";

export function IpAllowlistSection(props: { tenantId: string; current: string[]; onSaved(): Promise<void> }) {
  const [saved, setSaved] = useState(false);
  const save = async (values: Record<string, string>) => {
    setSaved(false);
    const cidrs = (values.cidrs ?? "").split(/[\s,]+/).map((entry) => entry.trim()).filter(Boolean);
    await api.put(apiPath`/v1/tenants/${props.tenantId}/ip-allowlist`, { cidrs });
    setSaved(true);
    await props.onSaved();
  };
  return (
    <Card title="Allowed addresses">
      <p className="muted">
        {props.current.length === 0 ? "Any address may reach this company's data." : `Only ${props.current.length} listed address range(s) may reach this company's data.`}
        {" "}One address or range (CIDR, e.g. 203.0.113.0/24) per line; leave empty to allow any. Your own address must be included.
      </p>
      <Form submitLabel="Save list" onSubmit={save} secondary label="Allowed addresses">
        <div className="field">
          <label htmlFor="ip-allowlist">Address ranges</label>
          <textarea id="ip-allowlist" name="cidrs" rows={4} defaultValue={props.current.join("\n")} spellCheck={false} />
        </div>
      </Form>
      {saved && <Notice>Saved.</Notice>}
    </Card>
  );
}
