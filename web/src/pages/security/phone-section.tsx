// The phone number for sign-in codes: added, proven with a texted code, and removed. Until one is
// proven, sign-in codes go to the e-mail address.
import { useCallback, useState } from "react";
import { api } from "../../api.ts";
import { ActionButton, Alert, Field, Form, Notice, useLoaded } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";

export function PhoneSection() {
  const load = useCallback(() => api.get<{ phone: string | null }>("/v1/auth/phone").then((answer) => answer.phone), []);
  const phone = useLoaded(load, "phone");
  const [pending, setPending] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const start = async (values: Record<string, string>) => {
    setNotice(null);
    const number = (values.phone ?? "").trim();
    await api.post("/v1/auth/phone", { phone: number });
    setPending(number);
  };
  const verify = async (values: Record<string, string>) => {
    await api.post("/v1/auth/phone/verify", { code: (values.code ?? "").trim() });
    setPending(null);
    setNotice("Phone number confirmed: sign-in codes now come by text message.");
    await phone.reload();
  };
  const remove = async () => {
    await api.delete("/v1/auth/phone");
    setNotice("Phone number removed: sign-in codes come by e-mail.");
    await phone.reload();
  };

  return (
    <Card title="Phone for sign-in codes">
      {notice && <Notice>{notice}</Notice>}
      {phone.error && <Alert>{phone.error}</Alert>}
      {phone.data === null && !pending && <p className="muted">None: sign-in codes for a new browser are sent to your e-mail address.</p>}
      {phone.data && (
        <div className="row">
          <div className="row-main">
            <strong>{phone.data}</strong>
            <span className="muted">Sign-in codes for a new browser are sent here by text message.</span>
          </div>
          <div className="row-actions">
            <ActionButton label="Remove" danger confirm="Send sign-in codes by e-mail instead?" action={remove} />
          </div>
        </div>
      )}
      {pending
        ? (
          <>
            <p>We texted a 6-digit code to <strong>{pending}</strong>. It is valid for 10 minutes.</p>
            <Form submitLabel="Confirm the number" onSubmit={verify} resetOnSuccess label="Confirm the phone number">
              <Field label="Code from the text message" name="code" inputMode="numeric" autoComplete="one-time-code" required
                pattern="[0-9]{6}" maxLength={6} />
            </Form>
            <p className="aside"><button type="button" className="linkish" onClick={() => setPending(null)}>Use another number</button></p>
          </>
        )
        : !phone.loading && (
          <Form submitLabel={phone.data ? "Change the number" : "Send a code"} onSubmit={start} secondary label="Phone number">
            <Field label={phone.data ? "New phone number" : "Phone number"} name="phone" type="tel" autoComplete="tel" required minLength={8} maxLength={32}
              hint="In international form, e.g. +358 40 123 4567." />
          </Form>
        )}
    </Card>
  );
}
