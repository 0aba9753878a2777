// A secret the server shows exactly once (a webhook's signing secret): copy it, then say it is saved.
import { useState, type ReactNode } from "react";

export function OneTimeSecret(props: { title: ReactNode; value: string; testId: string; children?: ReactNode; onDone(): void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(props.value).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <div className="secret" role="status">
      <p><strong>{props.title}</strong> Copy it now: it will not be shown again.</p>
      <code className="secret-value" data-testid={props.testId}>{props.value}</code>
      {props.children}
      <div className="buttons">
        <button type="button" className="button small" onClick={copy}>{copied ? "Copied" : "Copy"}</button>
        <button type="button" className="button small secondary" onClick={props.onDone}>I have saved it</button>
      </div>
    </div>
  );
}
