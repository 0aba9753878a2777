// The first page after sign-in: who I am, the companies I belong to, and switching between them.
import { api } from "../api.ts";
import { ActionButton } from "../components/form.tsx";
import { Card, Page } from "../components/layout.tsx";
import { Link } from "../router.tsx";
import { atLeast, currentCompany, useSession, type Session } from "../session.tsx";

export function DashboardPage(props: { session: Session }) {
  const { refresh } = useSession();
  const { user, tenants } = props.session;
  const current = currentCompany(props.session);
  const switchTo = async (tenantId: string) => {
    await api.post("/v1/auth/switch-tenant", { tenantId });
    await refresh();
  };
  return (
    <Page title={`Welcome, ${user.name}`} intro={`Signed in as ${user.email}`}>
      <Card title="Your companies">
        {tenants.length === 0 && <p className="muted">You do not belong to any company yet. Ask an admin to invite you.</p>}
        <ul className="rows" aria-label="Companies">
          {tenants.map((tenant) => (
            <li key={tenant.id} className={tenant.id === current?.id ? "row current" : "row"}>
              <div className="row-main">
                <strong className="company-name">{tenant.name}</strong>
                <span className="badges">
                  <span className="badge">{tenant.role}</span>
                  {tenant.status !== "active" && <span className="badge warn">{tenant.status}</span>}
                  {tenant.id === current?.id && <span className="badge ok">current</span>}
                </span>
              </div>
              <div className="row-actions">
                {tenant.id === current?.id
                  ? atLeast(tenant.role, "member") && <Link to="/company" className="button small secondary">{atLeast(tenant.role, "admin") ? "Manage" : "Members"}</Link>
                  : tenant.status === "active" && <ActionButton label="Switch to this company" action={() => switchTo(tenant.id)} />}
              </div>
            </li>
          ))}
        </ul>
      </Card>
    </Page>
  );
}
