// Company administration for the current company: members and invitations, groups, API keys, the
// address allow-list, the sign-in rules and the signature webhooks. Sections appear by role; the server checks every action
// again. The audit log and security alerts are pages of their own (audit-page.tsx, alerts-page.tsx).
import { useCallback } from "react";
import { api, apiPath } from "../../api.ts";
import { Alert, useLoaded } from "../../components/form.tsx";
import { Page } from "../../components/layout.tsx";
import { atLeast, currentCompany, type Role, type Session } from "../../session.tsx";
import { ApiKeysSection } from "./api-keys-section.tsx";
import { CompanyNav } from "./company-nav.tsx";
import { GroupsSection } from "./groups-section.tsx";
import { IpAllowlistSection } from "./ip-allowlist-section.tsx";
import { MembersSection } from "./members-section.tsx";
import { SignInRulesSection } from "./sign-in-rules-section.tsx";
import { SigningWebhooksSection } from "./signing-webhooks-section.tsx";

export type Tenant = { id: string; name: string; role: Role | null; ipAllowlist: string[] };
export type Member = { userId: string; email: string; name: string; role: Role; status: "active" | "suspended" };

export function CompanyPage(props: { session: Session }) {
  const company = currentCompany(props.session);
  if (!company) return <Page title="Company"><p className="muted">You do not belong to an active company.</p></Page>;
  return <CompanySections key={company.id} tenantId={company.id} role={company.role} self={props.session.user.id} />;
}

function CompanySections(props: { tenantId: string; role: Role; self: string }) {
  const isAdmin = atLeast(props.role, "admin");
  const loadTenant = useCallback(() => api.get<Tenant>(apiPath`/v1/tenants/${props.tenantId}`), [props.tenantId]);
  const loadMembers = useCallback(
    () => (atLeast(props.role, "member") ? api.get<{ members: Member[] }>(apiPath`/v1/tenants/${props.tenantId}/members`).then((answer) => answer.members) : Promise.resolve([])),
    [props.tenantId, props.role],
  );
  const tenant = useLoaded(loadTenant, props.tenantId);
  const members = useLoaded(loadMembers, props.tenantId);

  return (
    <Page title={tenant.data?.name ?? "Company"} intro={`Your role: ${props.role}`}>
      <CompanyNav role={props.role} />
      {tenant.error && <Alert>{tenant.error}</Alert>}
      {atLeast(props.role, "member") && (
        <MembersSection tenantId={props.tenantId} actorRole={props.role} self={props.self} members={members.data ?? []}
          error={members.error} reload={members.reload} />
      )}
      {isAdmin && <GroupsSection tenantId={props.tenantId} members={members.data ?? []} />}
      {isAdmin && <ApiKeysSection tenantId={props.tenantId} />}
      {isAdmin && tenant.data && <IpAllowlistSection tenantId={props.tenantId} current={tenant.data.ipAllowlist} onSaved={tenant.reload} />}
      {isAdmin && <SignInRulesSection tenantId={props.tenantId} />}
      {isAdmin && <SigningWebhooksSection tenantId={props.tenantId} />}
    </Page>
  );
}
