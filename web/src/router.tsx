// A small history-API router: the server answers every page path with index.html, and this decides
// which page to show. Links change the URL without reloading.
import { useEffect, useState, useSyncExternalStore, type MouseEvent, type ReactNode } from "react";

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

// The query string's parameters (/search?q=…), read again whenever the address changes.
export function useSearchParams(): URLSearchParams {
  const search = useSyncExternalStore(subscribe, () => window.location.search);
  return new URLSearchParams(search);
}

export function Link(props: { to: string; className?: string; current?: boolean; children: ReactNode }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return <a href={props.to} className={props.className} aria-current={props.current ? "page" : undefined} onClick={follow}>{props.children}</a>;
}

// Reads a single-use token from the URL fragment (#token=…) and removes it from the address bar and
// history, so it is not left on screen or in the back button. The fragment never reaches the server.
export function takeFragmentToken(): string | undefined {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") ?? undefined;
  if (window.location.hash) window.history.replaceState(null, "", window.location.pathname);
  return token && /^[A-Za-z0-9_-]{20,200}$/.test(token) ? token : undefined;
}

// The token of the page's link, also when a second link is opened in the same tab (only the
// fragment changes then, so the page is not reloaded).
export function useFragmentToken(): string | undefined {
  const [token, setToken] = useState(takeFragmentToken);
  useEffect(() => {
    const onHashChange = () => {
      const next = takeFragmentToken();
      if (next) setToken(next);
    };
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, []);
  return token;
}
