// Search results (/search?q=…): documents and pages whose title or text matches, among those the
// caller may see (the server searches its encrypted index and filters by rights).
import { useCallback, useMemo } from "react";
import { ApiError } from "../../api.ts";
import { Alert, useLoaded } from "../../components/form.tsx";
import { Card, Page } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";
import { Link, useSearchParams } from "../../router.tsx";
import { currentCompany, type Session } from "../../session.tsx";
import { documentHref, documentsApi } from "./documents-api.ts";
import { maxQueryLength, SearchBox } from "./search-box.tsx";

export function SearchPage(props: { session: Session }) {
  const company = currentCompany(props.session);
  const query = (useSearchParams().get("q") ?? "").trim().slice(0, maxQueryLength);
  if (!company) return <Page title="Search"><p className="muted">You do not belong to an active company.</p></Page>;
  return <SearchResults key={`${company.id}?${query}`} tenantId={company.id} query={query} />;
}

function SearchResults(props: { tenantId: string; query: string }) {
  const docs = useMemo(() => documentsApi(props.tenantId), [props.tenantId]);
  const load = useCallback(async () => {
    if (!props.query) return [];
    return docs.search(props.query).catch((error: unknown) => {
      if (error instanceof ApiError && error.code === "route_not_found") throw new ApiError(404, "search_unavailable", "Search is not available on this server yet");
      throw error;
    });
  }, [docs, props.query]);
  const results = useLoaded(load, props.query);
  return (
    <Page title={props.query ? `Search: ${props.query}` : "Search"}>
      <div className="documents-bar">
        <SearchBox initial={props.query} />
        <Link to="/documents" className="button secondary">All documents</Link>
      </div>
      {results.error && <Alert>{results.error}</Alert>}
      {results.loading && <p className="muted" aria-live="polite">Searching…</p>}
      {!results.loading && results.data && props.query && (
        <Card>
          {results.data.length === 0
            ? <p className="muted">Nothing you may see matches “{props.query}”.</p>
            : <p className="muted">{results.data.length} result{results.data.length === 1 ? "" : "s"}</p>}
          <ul className="rows" aria-label="Search results">
            {results.data.map((result) => (
              <li key={result.id} className="row">
                <div className="row-main">
                  <Link to={documentHref(result)}>{result.title}</Link>
                  <span className="muted">{result.kind === "page" ? "page" : "file"}{result.updatedAt ? ` · changed ${formatTime(result.updatedAt)}` : ""}</span>
                  {result.snippet && <span className="snippet">{result.snippet}</span>}
                </div>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </Page>
  );
}
