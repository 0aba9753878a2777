// Account → Security: the authenticator app (TOTP) with its recovery codes, passkeys, the phone
// number for sign-in codes, and the history of sign-ins to this account.
import { useCallback } from "react";
import { api } from "../../api.ts";
import { Alert, useLoaded } from "../../components/form.tsx";
import { Page } from "../../components/layout.tsx";
import type { Session } from "../../session.tsx";
import { AccountNav } from "../account.tsx";
import { PasskeysSection } from "./passkeys-section.tsx";
import { PhoneSection } from "./phone-section.tsx";
import { SignInHistorySection } from "./sign-in-history-section.tsx";
import { TotpSection } from "./totp-section.tsx";

export type Passkey = { id: string; createdAt: string; lastUsedAt: string | null; transports: string[] };
export type SecondFactors = {
  totp: { enabled: boolean; enabledAt: string | null };
  recoveryCodesLeft: number;
  passkeys: Passkey[];
  currentSessionSecondFactor: string | null;
};

export function SecurityPage(props: { session: Session }) {
  const load = useCallback(() => api.get<SecondFactors>("/v1/account/second-factors"), []);
  const factors = useLoaded(load, props.session.user.id);
  return (
    <Page title="Account">
      <AccountNav />
      {factors.error && <Alert>{factors.error}</Alert>}
      {factors.loading && !factors.data && <p className="muted">Loading…</p>}
      {factors.data && (
        <>
          <TotpSection factors={factors.data} reload={factors.reload} />
          <PasskeysSection passkeys={factors.data.passkeys} reload={factors.reload} />
        </>
      )}
      <PhoneSection />
      <SignInHistorySection userId={props.session.user.id} />
    </Page>
  );
}
