// The WebAuthn relying party is the server's public address: passkeys are bound to its host name,
// and assertions must come from its origin.
export type RelyingParty = { id: string; name: string; origin: string };

export function relyingPartyOf(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: "Strongroom", origin: url.origin };
}
