// The pages of the Company section. The audit log and alerts are for owners and admins; everyone sees
// the members page and the data-and-privacy page (sub-processors).
import { SectionNav } from "../../components/layout.tsx";
import { atLeast, type Role } from "../../session.tsx";

export function CompanyNav(props: { role: Role }) {
  if (!atLeast(props.role, "admin")) {
    return <SectionNav label="Company" items={[{ to: "/company", label: "Members and access" }, { to: "/company/privacy", label: "Data and privacy" }]} />;
  }
  return (
    <SectionNav label="Company" items={[
      { to: "/company", label: "Members and access" },
      { to: "/company/audit", label: "Audit log" },
      { to: "/company/alerts", label: "Security alerts" },
      { to: "/company/privacy", label: "Data and privacy" },
    ]} />
  );
}
