// Account settings: who I am, where I am signed in (with revoke), and signing out. Second factors,
// the phone and the sign-in history are on the Security tab (security/security-page.tsx).
import { useCallback } from "react";
import { api, apiPath } from "../api.ts";
import { ActionButton, Alert, useLoaded } from "../components/form.tsx";
import { Card, Page, SectionNav } from "../components/layout.tsx";
import { navigate } from "../router.tsx";
import { formatTime } from "../format.ts";
import { useSession, type Session } from "../session.tsx";

type SessionInfo = { id: string; current: boolean; ip: string; userAgent: string; createdAt: string; lastSeenAt: string };

export function AccountPage(props: { session: Session }) {
  const { forget } = useSession();
  const load = useCallback(() => api.get<{ sessions: SessionInfo[] }>("/v1/auth/sessions").then((answer) => answer.sessions), []);
  const sessions = useLoaded(load, props.session.sessionId);

  const signOut = async () => {
    await api.post("/v1/auth/logout");
    forget();
    navigate("/login", { replace: true });
  };
  const revoke = async (sessionId: string) => {
    await api.delete(apiPath`/v1/auth/sessions/${sessionId}`);
    await sessions.reload();
  };

  return (
    <Page title="Account">
      <AccountNav />
      <Card title="You">
        <dl className="facts">
          <dt>Name</dt><dd>{props.session.user.name}</dd>
          <dt>E-mail</dt><dd>{props.session.user.email}</dd>
        </dl>
        <ActionButton label="Sign out" action={signOut} />
      </Card>
      <Card title="Where you are signed in">
        {sessions.error && <Alert>{sessions.error}</Alert>}
        {sessions.loading && !sessions.data && <p className="muted">Loading…</p>}
        <ul className="rows" aria-label="Sessions">
          {sessions.data?.map((session) => (
            <li key={session.id} className={session.current ? "row current" : "row"}>
              <div className="row-main">
                <strong>{describeBrowser(session.userAgent)}</strong>
                <span className="muted">{session.ip} · signed in {formatTime(session.createdAt)} · last active {formatTime(session.lastSeenAt)}</span>
              </div>
              <div className="row-actions">
                {session.current
                  ? <span className="badge ok">this browser</span>
                  : <ActionButton label="Revoke" danger confirm="Sign this session out?" action={() => revoke(session.id)} />}
              </div>
            </li>
          ))}
        </ul>
      </Card>
    </Page>
  );
}

export function AccountNav() {
  return <SectionNav label="Account" items={[{ to: "/account", label: "Profile and sessions" }, { to: "/account/security", label: "Security" }, { to: "/account/privacy", label: "Your data" }]} />;
}

function describeBrowser(userAgent: string): string {
  const browser = /Edg\//.test(userAgent) ? "Edge" : /Firefox\//.test(userAgent) ? "Firefox" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome"
    : /Safari\//.test(userAgent) ? "Safari" : undefined;
  const system = /Android/.test(userAgent) ? "Android" : /iPhone|iPad/.test(userAgent) ? "iOS" : /Windows/.test(userAgent) ? "Windows"
    : /Mac OS X/.test(userAgent) ? "macOS" : /Linux/.test(userAgent) ? "Linux" : undefined;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? userAgent.slice(0, 60);
}
