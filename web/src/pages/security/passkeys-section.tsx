// Passkeys: listed with when they were added and last used, added through the browser's own prompt
// (the server's options in, the authenticator's answer out), and removed.
import { useState } from "react";
import { api, apiPath } from "../../api.ts";
import { ActionButton, Alert, Notice, useAction } from "../../components/form.tsx";
import { Card } from "../../components/layout.tsx";
import { formatTime } from "../../format.ts";
import { createPasskey, passkeysSupported, type CreationOptionsJSON } from "../../webauthn.ts";
import type { Passkey } from "./security-page.tsx";

const transportNames: Record<string, string> = {
  internal: "this device", hybrid: "a phone", usb: "USB key", nfc: "NFC key", ble: "Bluetooth key", "smart-card": "smart card", cable: "a phone",
};

export function PasskeysSection(props: { passkeys: Passkey[]; reload(): Promise<void> }) {
  const [added, setAdded] = useState(false);
  const add = useAction(async () => {
    setAdded(false);
    const options = await api.post<CreationOptionsJSON>("/v1/account/passkeys/registration-options");
    const response = await createPasskey(options);
    await api.post("/v1/account/passkeys", { response });
    setAdded(true);
    await props.reload();
  });
  const remove = async (passkeyId: string) => {
    setAdded(false);
    await api.delete(apiPath`/v1/account/passkeys/${passkeyId}`);
    await props.reload();
  };

  return (
    <Card title="Passkeys">
      <p className="muted">
        A passkey signs you in with this device's screen lock, a phone or a security key instead of a typed code. It cannot be phished.
      </p>
      {added && <Notice>Passkey added. We sent you an e-mail about it.</Notice>}
      {props.passkeys.length === 0 && <p className="muted">No passkeys yet.</p>}
      <ul className="rows" aria-label="Passkeys">
        {props.passkeys.map((passkey) => (
          <li key={passkey.id} className="row">
            <div className="row-main">
              <strong>Passkey {passkey.transports.length > 0 && `on ${passkey.transports.map((transport) => transportNames[transport] ?? transport).join(" or ")}`}</strong>
              <span className="muted">added {formatTime(passkey.createdAt)} · last used {formatTime(passkey.lastUsedAt)}</span>
            </div>
            <div className="row-actions">
              <ActionButton label="Remove" danger confirm="Remove this passkey?" action={() => remove(passkey.id)} />
            </div>
          </li>
        ))}
      </ul>
      {passkeysSupported()
        ? (
          <div className="buttons">
            <button type="button" className="button secondary" disabled={add.busy} onClick={() => void add.run()}>
              {add.busy ? "Waiting for the passkey…" : "Add a passkey"}
            </button>
          </div>
        )
        : <p className="muted">This browser cannot create passkeys.</p>}
      {add.error && <Alert>{add.error}</Alert>}
    </Card>
  );
}
