// Groups of members, used later to share folders and documents with several people at once.
import { useCallback, useId, useState } from "react";
import { api, apiPath } from "../../api.ts";
import { Alert, Field, Form, useAction, useLoaded } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import type { Member } from "./company-page.tsx";

type Group = { id: string; name: string; members: string[] };

export function GroupsSection(props: { tenantId: string; members: Member[] }) {
  const load = useCallback(() => api.get<{ groups: Group[] }>(apiPath`/v1/tenants/${props.tenantId}/groups`).then((answer) => answer.groups), [props.tenantId]);
  const groups = useLoaded(load, props.tenantId);
  const nameOf = (userId: string) => props.members.find((member) => member.userId === userId)?.name ?? "former member";

  const create = async (values: Record<string, string>) => {
    await api.post(apiPath`/v1/tenants/${props.tenantId}/groups`, { name: values.name });
    await groups.reload();
  };
  const addMember = async (groupId: string, userId: string) => {
    await api.put(apiPath`/v1/tenants/${props.tenantId}/groups/${groupId}/members/${userId}`, undefined);
    await groups.reload();
  };

  return (
    <Card title="Groups">
      {groups.error && <Alert>{groups.error}</Alert>}
      {groups.data?.length === 0 && <p className="muted">No groups yet.</p>}
      <ul className="rows" aria-label="Groups">
        {groups.data?.map((group) => (
          <li key={group.id} className="row">
            <div className="row-main">
              <strong>{group.name}</strong>
              <span className="muted">{group.members.length === 0 ? "no members" : group.members.map(nameOf).join(", ")}</span>
            </div>
            <div className="row-actions">
              <AddToGroup candidates={props.members.filter((member) => !group.members.includes(member.userId))} add={(userId) => addMember(group.id, userId)} />
            </div>
          </li>
        ))}
      </ul>
      <Form submitLabel="Create group" onSubmit={create} resetOnSuccess className="form inline" secondary label="New group">
        <Field label="Group name" name="name" required maxLength={200} />
      </Form>
    </Card>
  );
}

function AddToGroup(props: { candidates: Member[]; add(userId: string): Promise<void> }) {
  const [userId, setUserId] = useState("");
  const { busy, error, run } = useAction(props.add);
  const id = useId();
  if (props.candidates.length === 0) return null;
  return (
    <span className="action">
      <label className="visually-hidden" htmlFor={id}>Add a member</label>
      <select id={id} value={userId} onChange={(event) => setUserId(event.target.value)}>
        <option value="">Add a member…</option>
        {props.candidates.map((member) => <option key={member.userId} value={member.userId}>{member.name}</option>)}
      </select>
      <button type="button" className="button small secondary" disabled={!userId || busy} onClick={async () => { if (await run(userId)) setUserId(""); }}>Add</button>
      {error && <Alert>{error}</Alert>}
    </span>
  );
}
