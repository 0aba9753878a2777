// A document shared by link (/shared#token=…; the token stays in the fragment, out of server logs), for someone outside the company: no account needed.
// With a PIN (given to them another way), the PIN first earns a short-lived download grant. Then a
// preview when it is a PDF, and the download. An expired, revoked or locked link says so and shows
// nothing else.
import { useCallback, useState, type MouseEvent } from "react";
import { api, apiPath } from "../api.ts";
import { Alert, Field, Form, Notice, useLoaded } from "../components/form.tsx";
import { Card, Page } from "../components/layout.tsx";
import { PdfPreview } from "../components/pdf-preview.tsx";
import { formatTime } from "../format.ts";
import { useFragmentToken } from "../router.tsx";
import { formatSize, isPdf } from "./documents/documents-api.ts";

type SharedDocument = { title: string; size: number; pinRequired: boolean; contentType?: string | null; expiresAt?: string };
type Grant = { grant: string; expiresAt: string };

const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

export function SharedDocumentPage() {
  const token = useFragmentToken();
  if (!token || !tokenPattern.test(token)) {
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
  const [grant, setGrant] = useState<Grant | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const data = shared.data;

  const unlock = async (values: Record<string, string>) => {
    setNotice(null);
    setGrant(await api.post<Grant>(`${base}/unlock`, { pin: (values.pin ?? "").trim() }));
  };
  // The grant lasts minutes: once it has run out, the PIN is asked for again.
  const checkGrant = (event: MouseEvent<HTMLAnchorElement>) => {
    if (grant && Date.parse(grant.expiresAt) <= Date.now()) {
      event.preventDefault();
      setGrant(null);
      setNotice("Enter the PIN again: the download has to be unlocked anew after a few minutes.");
    }
  };

  if (shared.error && !data) {
    return (
      <Page title="Shared document" narrow>
        <Alert>{shared.error}</Alert>
        <p className="muted">Share links expire, and the sender can withdraw them. Ask the sender for a new link.</p>
      </Page>
    );
  }
  if (!data) return <p className="loading">Loading…</p>;
  const locked = data.pinRequired && !grant;
  const contentUrl = `${base}/content${grant ? `?grant=${encodeURIComponent(grant.grant)}` : ""}`;
  // The link tells the title; a PDF is recognised by its type when given, else by its name.
  const pdf = data.contentType ? isPdf(data.contentType) : /\.pdf$/i.test(data.title);
  return (
    <Page title={data.title} intro="Shared with you through Strongroom." narrow={locked}>
      {notice && <Notice>{notice}</Notice>}
      {locked ? (
        <Form submitLabel="Unlock" onSubmit={unlock} label="Unlock">
          <p className="muted">This document is protected by a PIN. The sender gives it to you another way than the link.</p>
          <Field label="PIN" name="pin" inputMode="numeric" autoComplete="one-time-code" required maxLength={12} autoFocus />
        </Form>
      ) : (
        <>
          <Card>
            <dl className="facts">
              <dt>Size</dt><dd>{formatSize(data.size)}</dd>
              {data.expiresAt && <><dt>Link expires</dt><dd>{formatTime(data.expiresAt)}</dd></>}
            </dl>
            <a className="button" href={contentUrl} download onClick={checkGrant}>Download</a>
          </Card>
          {pdf && (
            <Card title="Preview" className="preview-card">
              <PdfPreview url={contentUrl} title={data.title} />
            </Card>
          )}
        </>
      )}
    </Page>
  );
}
