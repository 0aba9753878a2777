// A document shared by link (/shared#token=… or /shared/<token>), for someone outside the company:
// no account needed. With a PIN, the PIN (given to them another way) unlocks it first. Then a preview
// for a PDF, and the download. An expired or revoked link says so and shows nothing else.
import { useCallback, useEffect, useState } from "react";
import { api, apiPath } from "../api.ts";
import { Alert, Field, Form, useLoaded } from "../components/form.tsx";
import { Card, Page } from "../components/layout.tsx";
import { PdfPreview } from "../components/pdf-preview.tsx";
import { formatTime } from "../format.ts";
import { useFragmentToken } from "../router.tsx";
import { formatSize, isPdf } from "./documents/documents-api.ts";

type SharedDocument = {
  title?: string; filename?: string | null; size?: number; contentType?: string | null; expiresAt?: string;
  pinRequired?: boolean; unlocked?: boolean;
};

const tokenPattern = /^[A-Za-z0-9_-]{20,200}$/;

export function SharedDocumentPage(props: { pathToken?: string }) {
  const fragmentToken = useFragmentToken();
  const token = props.pathToken && tokenPattern.test(props.pathToken) ? props.pathToken : fragmentToken;
  if (!token) {
    return (
      <Page title="Shared document" narrow>
        <Alert>This link is incomplete. Open the whole link you were sent.</Alert>
      </Page>
    );
  }
  return <SharedView key={token} token={token} />;
}

function SharedView(props: { token: string }) {
  const base = apiPath`/v1/shared/${props.token}`;
  const load = useCallback(() => api.get<SharedDocument>(base), [base]);
  const shared = useLoaded(load, props.token);
  const [unlocked, setUnlocked] = useState(false);
  const data = shared.data;
  const title = data?.title ?? data?.filename ?? "Shared document";

  useEffect(() => {
    if (data?.unlocked) setUnlocked(true);
  }, [data]);

  const unlock = async (values: Record<string, string>) => {
    await api.post(`${base}/unlock`, { pin: (values.pin ?? "").trim() });
    setUnlocked(true);
    await shared.reload();
  };

  if (shared.error && !data) {
    return (
      <Page title="Shared document" narrow>
        <Alert>{shared.error}</Alert>
        <p className="muted">Share links expire, and the sender can revoke them. Ask the sender for a new link.</p>
      </Page>
    );
  }
  if (!data) return <p className="loading">Loading…</p>;
  const locked = data.pinRequired === true && !unlocked;
  return (
    <Page title={title} intro="Shared with you through Strongroom." narrow={locked}>
      {locked ? (
        <Form submitLabel="Unlock" onSubmit={unlock} label="Unlock">
          <p className="muted">This document is protected by a PIN. The sender gives it to you another way than the link.</p>
          <Field label="PIN" name="pin" inputMode="numeric" autoComplete="off" required maxLength={32} autoFocus />
        </Form>
      ) : (
        <>
          <Card>
            <dl className="facts">
              {data.filename && <><dt>File</dt><dd>{data.filename}</dd></>}
              {data.size !== undefined && <><dt>Size</dt><dd>{formatSize(data.size)}</dd></>}
              {data.expiresAt && <><dt>Link expires</dt><dd>{formatTime(data.expiresAt)}</dd></>}
            </dl>
            <a className="button" href={`${base}/content`} download>Download</a>
          </Card>
          {isPdf(data.contentType) && (
            <Card title="Preview" className="preview-card">
              <PdfPreview url={`${base}/content`} title={title} />
            </Card>
          )}
        </>
      )}
    </Page>
  );
}
