// The pages of the Company section. The audit log and alerts are for owners and admins, so others
// have only the one page and see no tabs.
import { SectionNav } from "../../components/layout.tsx";
import { atLeast, type Role } from "../../session.tsx";

export function CompanyNav(props: { role: Role }) {
  if (!atLeast(props.role, "admin")) return null;
  return (
    <SectionNav label="Company" items={[
      { to: "/company", label: "Members and access" },
      { to: "/company/audit", label: "Audit log" },
      { to: "/company/alerts", label: "Security alerts" },
    ]} />
  );
}
