// Public verification page (/verify): drop a PDF, its SHA-256 is computed here in the browser
// (crypto.subtle) and only the hash is sent to POST /v1/verify. Shows whether this service sealed
// the file, when, for which request, who signed, and its place in the transparency log.
import { useState, type DragEvent } from "react";
import { api, messageOf } from "../api.ts";
import { Alert, Notice } from "../components/form.tsx";
import { Card, Page } from "../components/layout.tsx";
import { formatTime } from "../format.ts";

type Verification = {
  status: "sealed" | "modified" | "not_sealed";
  sha256: string;
  seal?: null | { requestId: string; sealedAt: string; completedAt: string; originalSha256: string; logIndex: number; signers: { name: string; email: string; signedAt: string }[] };
  sealSignatureValid?: boolean;
  erased?: boolean;
  treeHead?: { treeSize: number; signedAt: string };
};

async function sha256Of(file: File): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function VerifyPage() {
  const [fileName, setFileName] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [answer, setAnswer] = useState<Verification | null>(null);

  const check = async (file: File | undefined) => {
    if (!file) return;
    setFileName(file.name);
    setAnswer(null);
    setError(null);
    setBusy(true);
    try {
      setAnswer(await api.post<Verification>("/v1/verify", { sha256: await sha256Of(file) }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  const onDrop = (event: DragEvent<HTMLLabelElement>) => {
    event.preventDefault();
    void check(event.dataTransfer.files[0]);
  };

  return (
    <Page title="Verify a signed document" intro="Check whether a PDF was sealed by this service and has not been changed since. The file stays on your device: only its SHA-256 fingerprint is sent." narrow>
      <Card>
        <label className="drop-zone" data-testid="verify-drop" onDragOver={(event) => event.preventDefault()} onDrop={onDrop}>
          <span>Drop the PDF here, or choose it</span>
          <input type="file" accept="application/pdf,.pdf" onChange={(event) => void check(event.target.files?.[0])} />
        </label>
        {busy && <p className="loading" aria-live="polite">Checking {fileName}…</p>}
      </Card>
      {error && <Alert>{error}</Alert>}
      {answer && <VerificationAnswer answer={answer} fileName={fileName} />}
    </Page>
  );
}

function VerificationAnswer(props: { answer: Verification; fileName: string | null }) {
  const { answer } = props;
  if (answer.status === "sealed" && !answer.seal) {
    return (
      <Card title="Sealed by this service">
        <div data-testid="verify-result" data-status="sealed">
          <Notice>This exact file was sealed here and is unchanged. Its details were erased with the company's data, so who signed can no longer be shown.</Notice>
          <p className="muted">SHA-256: <code>{answer.sha256}</code></p>
        </div>
      </Card>
    );
  }
  if (answer.status !== "sealed" || !answer.seal) {
    return (
      <Card title="Not sealed by this service">
        <div data-testid="verify-result" data-status="not_sealed">
          <Alert>
            No seal of this service matches {props.fileName ?? "this file"}. Either it was never sealed here, or it was changed after sealing
            (a single changed byte is enough).
          </Alert>
          <p className="muted">SHA-256: <code>{answer.sha256}</code></p>
        </div>
      </Card>
    );
  }
  const seal = answer.seal;
  return (
    <Card title="Sealed by this service and unchanged">
      <div data-testid="verify-result" data-status="sealed">
        <Notice>This exact file was sealed on {formatTime(seal.sealedAt)}.</Notice>
        {!answer.sealSignatureValid && <Alert>The seal record's signature does not verify: report this to the operator.</Alert>}
        <dl className="facts">
          <dt>Signature request</dt><dd><code>{seal.requestId}</code></dd>
          <dt>Completed</dt><dd>{formatTime(seal.completedAt)}</dd>
          <dt>SHA-256</dt><dd><code>{answer.sha256}</code></dd>
          <dt>Before signing</dt><dd><code>{seal.originalSha256}</code></dd>
          <dt>Transparency log</dt><dd>entry {seal.logIndex + 1} of {answer.treeHead?.treeSize ?? "?"}</dd>
        </dl>
        <h3>Signed by</h3>
        <ul>
          {seal.signers.map((signer) => (
            <li key={`${signer.email}-${signer.signedAt}`}>{signer.name} &lt;{signer.email}&gt;, {formatTime(signer.signedAt)}</li>
          ))}
        </ul>
      </div>
    </Card>
  );
}
