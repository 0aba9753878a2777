// The pages of the Company section; the audit log and alerts are for owners and admins.
import { SectionNav } from "../../components/layout.tsx";
import { atLeast, type Role } from "../../session.tsx";

export function CompanyNav(props: { role: Role }) {
  const items = [{ to: "/company", label: "Members and access" }];
  if (atLeast(props.role, "admin")) items.push({ to: "/company/audit", label: "Audit log" }, { to: "/company/alerts", label: "Security alerts" });
  return <SectionNav label="Company" items={items} />;
}
