// Members of a company: role changes, suspension and removal for admins, and inviting new people.
import { useState } from "react";
import { api, apiPath } from "../../api.ts";
import { ActionButton, Alert, Field, Form, Notice, SelectField, useAction } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import { atLeast, type Role } from "../../session.tsx";
import type { Member } from "./company-page.tsx";

const allRoles: readonly Role[] = ["owner", "admin", "member", "viewer"];

type Props = { tenantId: string; actorRole: Role; self: string; members: Member[]; error: string | undefined; reload(): Promise<void> };

export function MembersSection(props: Props) {
  const isAdmin = atLeast(props.actorRole, "admin");
  // Only an owner may grant or take away the owner role.
  const assignable = props.actorRole === "owner" ? allRoles : allRoles.filter((role) => role !== "owner");
  const memberPath = (userId: string, suffix = "") => apiPath`/v1/tenants/${props.tenantId}/members/${userId}` + suffix;
  const act = (run: () => Promise<unknown>) => async () => {
    await run();
    await props.reload();
  };

  return (
    <>
      <Card title="Members">
        {props.error && <Alert>{props.error}</Alert>}
        <ul className="rows" aria-label="Members">
          {props.members.map((member) => {
            const mayManage = isAdmin && member.userId !== props.self && (member.role !== "owner" || props.actorRole === "owner");
            return (
              <li key={member.userId} className="row">
                <div className="row-main">
                  <strong>{member.name}{member.userId === props.self && " (you)"}</strong>
                  <span className="muted">{member.email}</span>
                  {member.status !== "active" && <span className="badge warn">{member.status}</span>}
                </div>
                <div className="row-actions">
                  {isAdmin && (member.role !== "owner" || props.actorRole === "owner")
                    ? <RoleSelect member={member} roles={assignable} change={(role) => act(() => api.patch(memberPath(member.userId), { role }))()} />
                    : <span className="badge">{member.role}</span>}
                  {mayManage && (member.status === "active"
                    ? <ActionButton label="Suspend" action={act(() => api.post(memberPath(member.userId, "/suspend")))} />
                    : <ActionButton label="Reactivate" action={act(() => api.post(memberPath(member.userId, "/reactivate")))} />)}
                  {mayManage && <ActionButton label="Remove" danger confirm={`Remove ${member.name}?`} action={act(() => api.delete(memberPath(member.userId)))} />}
                </div>
              </li>
            );
          })}
        </ul>
      </Card>
      {isAdmin && <InviteForm tenantId={props.tenantId} roles={assignable} />}
    </>
  );
}

function RoleSelect(props: { member: Member; roles: readonly Role[]; change(role: Role): Promise<void> }) {
  const { busy, error, run } = useAction(props.change);
  return (
    <span className="action">
      <label className="visually-hidden" htmlFor={`role-${props.member.userId}`}>Role of {props.member.name}</label>
      <select id={`role-${props.member.userId}`} value={props.member.role} disabled={busy} onChange={(event) => run(event.target.value as Role)}>
        {props.roles.map((role) => <option key={role} value={role}>{role}</option>)}
      </select>
      {error && <Alert>{error}</Alert>}
    </span>
  );
}

function InviteForm(props: { tenantId: string; roles: readonly Role[] }) {
  const [sentTo, setSentTo] = useState<string | undefined>();
  const submit = async (values: Record<string, string>) => {
    setSentTo(undefined);
    await api.post(apiPath`/v1/tenants/${props.tenantId}/invitations`, { email: values.email, role: values.role });
    setSentTo(values.email);
  };
  return (
    <Card title="Invite someone">
      <Form submitLabel="Send invitation" onSubmit={submit} resetOnSuccess className="form inline" label="Invite">
        <Field label="E-mail" name="email" type="email" required maxLength={254} />
        <SelectField label="Role" name="role" options={props.roles} defaultValue="member" />
      </Form>
      {sentTo && <Notice>Invitation sent to {sentTo}. The link is valid for 7 days.</Notice>}
    </Card>
  );
}
