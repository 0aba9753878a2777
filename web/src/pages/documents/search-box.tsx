// The search field above the documents: searching opens the results page (/search?q=…).
import { useId, useState, type FormEvent } from "react";
import { navigate } from "../../router.tsx";

export const maxQueryLength = 200;

export function SearchBox(props: { initial?: string }) {
  const id = useId();
  const [query, setQuery] = useState(props.initial ?? "");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = query.trim();
    if (trimmed) navigate(`/search?q=${encodeURIComponent(trimmed)}`);
  };
  return (
    <form className="search-box" role="search" onSubmit={submit}>
      <label htmlFor={id} className="visually-hidden">Search documents</label>
      <input id={id} type="search" value={query} maxLength={maxQueryLength} placeholder="Search titles and page text"
        onChange={(event) => setQuery(event.target.value)} />
      <button type="submit" className="button secondary">Search</button>
    </form>
  );
}
