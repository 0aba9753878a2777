// Forms and actions that call the API: they disable themselves while waiting and show the server's
// message when it refuses, next to what the person just did.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from "react";
import { messageOf } from "../api.ts";

type FormProps = {
  submitLabel: string;
  onSubmit(values: Record<string, string>, data: FormData): Promise<void>;
  children?: ReactNode;
  resetOnSuccess?: boolean;
  className?: string;
  secondary?: boolean;
  label?: string;
};

export function Form(props: FormProps) {
  const { busy, error, run } = useAction(props.onSubmit);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const values = Object.fromEntries([...data].map(([name, value]) => [name, typeof value === "string" ? value : ""]));
    if ((await run(values, data)) && props.resetOnSuccess) form.reset();
  };
  return (
    <form className={props.className ?? "form"} onSubmit={submit} aria-busy={busy} aria-label={props.label}>
      {props.children}
      {error && <Alert>{error}</Alert>}
      <button type="submit" className={props.secondary ? "button secondary" : "button"} disabled={busy}>
        {busy ? "Please wait…" : props.submitLabel}
      </button>
    </form>
  );
}

type FieldProps = { label: string; name: string; hint?: ReactNode } & InputHTMLAttributes<HTMLInputElement>;

export function Field({ label, hint, ...input }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hintId} {...input} />
      {hint && <small id={hintId} className="hint">{hint}</small>}
    </div>
  );
}

type SelectFieldProps = { label: string; name: string; options: readonly string[] } & SelectHTMLAttributes<HTMLSelectElement>;

export function SelectField({ label, options, ...select }: SelectFieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} {...select}>
        {options.map((option) => <option key={option} value={option}>{option}</option>)}
      </select>
    </div>
  );
}

export function Alert(props: { children: ReactNode }) {
  return <p role="alert" className="alert">{props.children}</p>;
}

export function Notice(props: { children: ReactNode }) {
  return <p role="status" className="notice">{props.children}</p>;
}

// Runs an API call with a busy flag and the refusal message; resolves true when it succeeded.
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (...args: A): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
      return true;
    } catch (failure) {
      setError(messageOf(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, [action]);
  return { busy, error, run, clearError: () => setError(null) };
}

// A button for one API call (revoke, suspend…), with its own error shown beside it.
export function ActionButton(props: { label: string; action(): Promise<void>; danger?: boolean; confirm?: string }) {
  const { busy, error, run } = useAction(props.action);
  const [asking, setAsking] = useState(false);
  const className = props.danger ? "button small danger" : "button small secondary";
  if (asking) {
    return (
      <span className="confirm">
        <span>{props.confirm}</span>
        <button type="button" className="button small danger" disabled={busy} onClick={async () => { if (await run()) setAsking(false); }}>Yes</button>
        <button type="button" className="button small secondary" onClick={() => setAsking(false)}>Cancel</button>
        {error && <Alert>{error}</Alert>}
      </span>
    );
  }
  return (
    <span className="action">
      <button type="button" className={className} disabled={busy} onClick={() => (props.confirm ? setAsking(true) : run())}>
        {busy ? "…" : props.label}
      </button>
      {error && <Alert>{error}</Alert>}
    </span>
  );
}

// Loads data for a section, again whenever `key` changes; `reload` after a change. An answer that
// arrives after a newer request started is dropped.
export function useLoaded<T>(load: () => Promise<T>, key: string) {
  const loadRef = useRef(load);
  loadRef.current = load;
  const sequence = useRef(0);
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const reload = useCallback(async () => {
    const mine = ++sequence.current;
    setState((previous) => ({ ...previous, loading: true }));
    try {
      const data = await loadRef.current();
      if (mine === sequence.current) setState({ data, loading: false });
    } catch (failure) {
      if (mine === sequence.current) setState({ error: messageOf(failure), loading: false });
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [key, reload]);
  return { ...state, reload };
}
