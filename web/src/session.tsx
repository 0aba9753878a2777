// Who is signed in: loaded from GET /v1/auth/session at start and after every sign-in, company switch
// or sign-out, and shared with every page through a context.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, ApiError, rememberCsrfToken, whenSessionLost } from "./api.ts";

export type Role = "owner" | "admin" | "member" | "viewer";
export type Membership = { id: string; name: string; role: Role; status: "active" | "suspended" };
export type Session = {
  user: { id: string; email: string; name: string };
  tenants: Membership[];
  activeTenantId: string | null;
  csrfToken: string;
  sessionId: string;
};

type SessionState = {
  session: Session | null;
  loading: boolean;
  refresh(): Promise<Session | null>;
  forget(): void;
};

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider(props: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [loading, setLoading] = useState(true);

  const forget = useCallback(() => {
    rememberCsrfToken(undefined);
    setSession(null);
  }, []);

  const refresh = useCallback(async () => {
    try {
      const loaded = await api.get<Session>("/v1/auth/session");
      setSession(loaded);
      return loaded;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        forget();
        return null;
      }
      throw error;
    } finally {
      setLoading(false);
    }
  }, [forget]);

  useEffect(() => {
    whenSessionLost(forget);
    refresh().catch(() => setLoading(false));
  }, [refresh, forget]);

  const value = useMemo(() => ({ session, loading, refresh, forget }), [session, loading, refresh, forget]);
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}

// The company the pages act on: the one chosen for this session, else the first active membership.
export function currentCompany(session: Session): Membership | undefined {
  const active = session.tenants.filter((tenant) => tenant.status === "active");
  return active.find((tenant) => tenant.id === session.activeTenantId) ?? active[0];
}

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export function atLeast(role: Role, least: Role): boolean {
  return rank[role] >= rank[least];
}
