// The page table: which path shows which page, and who may see it. Pages for signed-in people get
// the session; a signed-out visitor is sent to the sign-in page, and back to the dashboard after.
import { useEffect, type ReactNode } from "react";
import { Layout, Page } from "./components/layout.tsx";
import { AccountPage } from "./pages/account.tsx";
import { AcceptInvitationPage } from "./pages/accept-invitation.tsx";
import { AlertsPage } from "./pages/company/alerts-page.tsx";
import { AuditPage } from "./pages/company/audit-page.tsx";
import { CompanyPage } from "./pages/company/company-page.tsx";
import { CompanyPrivacyPage } from "./pages/company/privacy-page.tsx";
import { AccountErasedPage, AccountPrivacyPage } from "./pages/privacy/account-privacy-page.tsx";
import { DashboardPage } from "./pages/dashboard.tsx";
import { DevOutboxPage } from "./pages/dev-outbox.tsx";
import { DocumentPage } from "./pages/documents/document-page.tsx";
import { FileBrowserPage } from "./pages/documents/file-browser-page.tsx";
import { PageEditorPage } from "./pages/documents/page-editor-page.tsx";
import { SearchPage } from "./pages/documents/search-page.tsx";
import { TrashPage } from "./pages/documents/trash-page.tsx";
import { LogInPage } from "./pages/log-in.tsx";
import { ResetPasswordPage } from "./pages/reset-password.tsx";
import { SecurityPage } from "./pages/security/security-page.tsx";
import { SharedDocumentPage } from "./pages/shared-document.tsx";
import { SignPage } from "./pages/sign.tsx";
import { CheckEmailPage, SignUpPage } from "./pages/sign-up.tsx";
import { VerifyEmailPage } from "./pages/verify-email.tsx";
import { VerifyPage } from "./pages/verify.tsx";
import { Link, navigate, usePathname } from "./router.tsx";
import { SessionProvider, useSession, type Session } from "./session.tsx";

type Route =
  | { access: "public"; render(): ReactNode }
  | { access: "signed_out"; render(): ReactNode }
  | { access: "signed_in"; render(session: Session): ReactNode };

const routes: Record<string, Route> = {
  "/": { access: "signed_in", render: (session) => <DashboardPage session={session} /> },
  "/company": { access: "signed_in", render: (session) => <CompanyPage session={session} /> },
  "/company/audit": { access: "signed_in", render: (session) => <AuditPage session={session} /> },
  "/company/alerts": { access: "signed_in", render: (session) => <AlertsPage session={session} /> },
  "/company/privacy": { access: "signed_in", render: (session) => <CompanyPrivacyPage session={session} /> },
  "/account": { access: "signed_in", render: (session) => <AccountPage session={session} /> },
  "/account/security": { access: "signed_in", render: (session) => <SecurityPage session={session} /> },
  "/account/privacy": { access: "signed_in", render: (session) => <AccountPrivacyPage session={session} /> },
  "/login": { access: "signed_out", render: () => <LogInPage /> },
  "/signup": { access: "signed_out", render: () => <SignUpPage /> },
  "/check-email": { access: "public", render: () => <CheckEmailPage /> },
  "/verify-email": { access: "public", render: () => <VerifyEmailPage /> },
  "/reset-password": { access: "public", render: () => <ResetPasswordPage /> },
  "/accept-invitation": { access: "public", render: () => <AcceptInvitationPage /> },
  "/dev/outbox": { access: "public", render: () => <DevOutboxPage /> },
  "/documents": { access: "signed_in", render: (session) => <FileBrowserPage session={session} folderId={null} /> },
  "/trash": { access: "signed_in", render: (session) => <TrashPage session={session} /> },
  "/search": { access: "signed_in", render: (session) => <SearchPage session={session} /> },
  "/shared": { access: "public", render: () => <SharedDocumentPage /> },
  "/sign": { access: "public", render: () => <SignPage /> },
  "/verify": { access: "public", render: () => <VerifyPage /> },
  "/account-erased": { access: "public", render: () => <AccountErasedPage /> },
};

// Pages of one thing, named by its id in the path (/documents/:id).
const idRoutes: { prefix: string; route(id: string): Route }[] = [
  { prefix: "/folders/", route: (id) => ({ access: "signed_in", render: (session) => <FileBrowserPage session={session} folderId={id} /> }) },
  { prefix: "/documents/", route: (id) => ({ access: "signed_in", render: (session) => <DocumentPage session={session} documentId={id} /> }) },
  { prefix: "/pages/", route: (id) => ({ access: "signed_in", render: (session) => <PageEditorPage session={session} pageId={id} /> }) },
];

function routeOf(pathname: string): Route | undefined {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const exact = routes[path];
  if (exact) return exact;
  for (const candidate of idRoutes) {
    const id = path.startsWith(candidate.prefix) ? path.slice(candidate.prefix.length) : "";
    if (/^[A-Za-z0-9_-]{1,64}$/.test(id)) return candidate.route(id);
  }
  return undefined;
}

export function App() {
  return (
    <SessionProvider>
      <Layout>
        <CurrentPage />
      </Layout>
    </SessionProvider>
  );
}

function CurrentPage() {
  const pathname = usePathname();
  const { session, loading } = useSession();
  const route = routeOf(pathname);
  const redirect = loading || !route ? undefined
    : route.access === "signed_in" && !session ? "/login"
    : route.access === "signed_out" && session ? "/"
    : undefined;

  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  if (!route) return <NotFoundPage />;
  if (loading || redirect) return <p className="loading" aria-live="polite">Loading…</p>;
  if (route.access === "signed_in") return route.render(session!);
  return route.render();
}

function NotFoundPage() {
  return (
    <Page title="Page not found" narrow>
      <p>There is no page at this address.</p>
      <Link to="/" className="button">Go to the dashboard</Link>
    </Page>
  );
}
