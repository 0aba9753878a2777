// The frame around every page: the brand, and for a signed-in person the main sections.
import { useEffect, type ReactNode } from "react";
import { useDevOutboxAvailable } from "../dev-outbox.ts";
import { Link, usePathname } from "../router.tsx";
import { currentCompany, useSession } from "../session.tsx";

// A section is marked as current on its own pages too (/company/audit is part of Company; folders,
// pages, the trash and search are part of Documents).
const isWithin = (pathname: string, to: string) => pathname === to || (to !== "/" && pathname.startsWith(`${to}/`))
  || (to === "/documents" && /^\/(folders|pages|trash|search)(\/|$)/.test(pathname));

export function Layout(props: { children: ReactNode }) {
  const { session } = useSession();
  const pathname = usePathname();
  const company = session ? currentCompany(session) : undefined;
  const devOutbox = useDevOutboxAvailable();
  const item = (to: string, label: string) => (
    <li><Link to={to} className={isWithin(pathname, to) ? "nav-link active" : "nav-link"}>{label}</Link></li>
  );
  return (
    <div className="shell">
      <header className="topbar">
        <Link to={session ? "/" : "/login"} className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Strongroom</span>
        </Link>
        {session && (
          <nav aria-label="Main">
            <ul className="nav">
              {item("/", "Dashboard")}
              {company && item("/documents", "Documents")}
              {company && item("/company", "Company")}
              {item("/account", "Account")}
            </ul>
          </nav>
        )}
      </header>
      <main className="content">{props.children}</main>
      {devOutbox && (
        <footer className="dev-footer">
          This is a dev installation: e-mails and text messages are kept in the{" "}
          {/* A new tab, so that a sign-in waiting for its code is not left behind. */}
          <a href="/dev/outbox" target="_blank" rel="noopener">dev outbox</a> instead of being sent.
        </footer>
      )}
    </div>
  );
}

// A page's heading, also used as the window title.
export function Page(props: { title: string; intro?: ReactNode; narrow?: boolean; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${props.title} · Strongroom`;
  }, [props.title]);
  return (
    <section className={props.narrow ? "page narrow" : "page"}>
      <h1>{props.title}</h1>
      {props.intro && <p className="intro">{props.intro}</p>}
      {props.children}
    </section>
  );
}

export function Card(props: { title?: string; children: ReactNode; className?: string }) {
  return (
    <section className={props.className ? `card ${props.className}` : "card"}>
      {props.title && <h2>{props.title}</h2>}
      {props.children}
    </section>
  );
}

// The pages within a section (Account, Company), as tabs that are links.
export function SectionNav(props: { label: string; items: { to: string; label: string }[] }) {
  const pathname = usePathname();
  return (
    <nav aria-label={props.label}>
      <ul className="tabs section-nav">
        {props.items.map((item) => (
          <li key={item.to}>
            <Link to={item.to} className={pathname === item.to ? "tab active" : "tab"} current={pathname === item.to}>{item.label}</Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
