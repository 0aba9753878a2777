// Where a folder, document or page sits: the company's documents, then each folder down to it.
import { Link } from "../../router.tsx";
import { folderHref, type Crumb } from "./documents-api.ts";

export function Breadcrumbs(props: { trail: Crumb[]; current?: string }) {
  const last = props.trail.length - 1;
  return (
    <nav aria-label="Breadcrumbs">
      <ol className="breadcrumbs">
        <li>{props.trail.length === 0 && props.current === undefined ? <span aria-current="page">Documents</span> : <Link to={folderHref(null)}>Documents</Link>}</li>
        {props.trail.map((crumb, index) => (
          <li key={crumb.id}>
            {index === last && props.current === undefined
              ? <span aria-current="page">{crumb.name}</span>
              : <Link to={folderHref(crumb.id)}>{crumb.name}</Link>}
          </li>
        ))}
        {props.current !== undefined && <li><span aria-current="page">{props.current}</span></li>}
      </ol>
    </nav>
  );
}
