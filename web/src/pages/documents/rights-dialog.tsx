// Who may see, edit or manage a folder or document: grants to members or groups, inherited by
// everything inside a folder. A company role still bounds a grant (a viewer never edits).
import { useCallback, useId, useState, type FormEvent } from "react";
import { api, apiPath } from "../../api.ts";
import { Alert, useAction, useLoaded } from "../../components/form.tsx";
import { Dialog } from "../../components/dialog.tsx";
import type { Member } from "../company/company-page.tsx";
import type { Access, DocumentsApi, Grant } from "./documents-api.ts";

type Group = { id: string; name: string };
type Props = { tenantId: string; docs: DocumentsApi; resource: { type: "folder" | "document"; id: string; name: string }; onClose(): void };

const permissions: { value: Access; label: string }[] = [
  { value: "view", label: "can view" },
  { value: "edit", label: "can edit" },
  { value: "manage", label: "can manage" },
];

export function RightsDialog(props: Props) {
  const { docs, resource } = props;
  const load = useCallback(async () => {
    const [grants, members, groups] = await Promise.all([
      docs.grants(resource.type, resource.id),
      api.get<{ members: Member[] }>(apiPath`/v1/tenants/${props.tenantId}/members`).then((answer) => answer.members),
      api.get<{ groups: Group[] }>(apiPath`/v1/tenants/${props.tenantId}/groups`).then((answer) => answer.groups),
    ]);
    return { grants, members, groups };
  }, [docs, resource.type, resource.id, props.tenantId]);
  const state = useLoaded(load, `${resource.type}:${resource.id}`);
  const set = useAction(async (principalType: "user" | "group", principalId: string, permission: Access | null) => {
    await docs.setGrant(resource.type, resource.id, principalType, principalId, permission);
    await state.reload();
  });

  const nameOf = (grant: Grant) => {
    if (grant.principalType === "group") return `${state.data?.groups.find((group) => group.id === grant.principalId)?.name ?? "removed group"} (group)`;
    const member = state.data?.members.find((person) => person.userId === grant.principalId);
    return member ? `${member.name} <${member.email}>` : "former member";
  };
  const roleOf = (grant: Grant) => state.data?.members.find((person) => person.userId === grant.principalId)?.role;

  return (
    <Dialog title={`Rights on “${resource.name}”`} onClose={props.onClose} wide>
      <p className="muted">
        {resource.type === "folder" ? "Rights given here apply to everything inside this folder. " : ""}
        Owners and admins can manage everything; a viewer never gets more than view, whatever is granted.
      </p>
      {state.error && <Alert>{state.error}</Alert>}
      {set.error && <Alert>{set.error}</Alert>}
      <ul className="rows" aria-label="Rights">
        {state.data?.grants.length === 0 && <li className="row muted">No one has been given rights here yet.</li>}
        {state.data?.grants.map((grant) => (
          <li key={`${grant.principalType}:${grant.principalId}`} className="row">
            <div className="row-main">
              <strong>{nameOf(grant)}</strong>
              {roleOf(grant) === "viewer" && grant.permission !== "view" && <span className="muted">company viewer: can only view</span>}
            </div>
            <div className="row-actions">
              <label className="visually-hidden" htmlFor={`grant-${grant.principalType}-${grant.principalId}`}>Right of {nameOf(grant)}</label>
              <select id={`grant-${grant.principalType}-${grant.principalId}`} value={grant.permission} disabled={set.busy}
                onChange={(event) => void set.run(grant.principalType, grant.principalId, event.target.value as Access)}>
                {permissions.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
              </select>
              <button type="button" className="button small danger" disabled={set.busy} onClick={() => void set.run(grant.principalType, grant.principalId, null)}>Remove</button>
            </div>
          </li>
        ))}
      </ul>
      {state.data && <GrantForm members={state.data.members} groups={state.data.groups} grants={state.data.grants} busy={set.busy}
        grant={(type, id, permission) => set.run(type, id, permission)} />}
    </Dialog>
  );
}

function GrantForm(props: { members: Member[]; groups: Group[]; grants: Grant[]; busy: boolean; grant(type: "user" | "group", id: string, permission: Access): Promise<boolean> }) {
  const whoId = useId();
  const rightId = useId();
  const [who, setWho] = useState("");
  const [permission, setPermission] = useState<Access>("view");
  const granted = new Set(props.grants.map((grant) => `${grant.principalType}:${grant.principalId}`));
  const people = props.members.filter((member) => member.status === "active" && !granted.has(`user:${member.userId}`));
  const groups = props.groups.filter((group) => !granted.has(`group:${group.id}`));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const [type, id] = who.split(":") as ["user" | "group", string];
    if (id && (await props.grant(type, id, permission))) setWho("");
  };
  return (
    <form className="form inline" onSubmit={submit} aria-label="Give rights">
      <div className="field">
        <label htmlFor={whoId}>Person or group</label>
        <select id={whoId} value={who} onChange={(event) => setWho(event.target.value)} required>
          <option value="">Choose…</option>
          {people.length > 0 && (
            <optgroup label="People">
              {people.map((member) => <option key={member.userId} value={`user:${member.userId}`}>{member.name} ({member.role})</option>)}
            </optgroup>
          )}
          {groups.length > 0 && (
            <optgroup label="Groups">
              {groups.map((group) => <option key={group.id} value={`group:${group.id}`}>{group.name}</option>)}
            </optgroup>
          )}
        </select>
      </div>
      <div className="field">
        <label htmlFor={rightId}>Right</label>
        <select id={rightId} value={permission} onChange={(event) => setPermission(event.target.value as Access)}>
          {permissions.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
        </select>
      </div>
      <button type="submit" className="button" disabled={props.busy || !who}>Give right</button>
    </form>
  );
}
