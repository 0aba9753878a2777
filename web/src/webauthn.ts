// Passkeys in the browser: the server sends WebAuthn options as JSON (binary fields in base64url),
// navigator.credentials wants ArrayBuffers, and its answer goes back as JSON again. The conversions
// are written out here rather than left to the newer parse…FromJSON/toJSON helpers, which not every
// browser has.
import { ApiError } from "./api.ts";

type CredentialDescriptorJSON = { id: string; type: "public-key"; transports?: string[] };

export type CreationOptionsJSON = {
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { type: "public-key"; alg: number }[];
  timeout?: number;
  excludeCredentials?: CredentialDescriptorJSON[];
  authenticatorSelection?: AuthenticatorSelectionCriteria;
  attestation?: AttestationConveyancePreference;
  extensions?: AuthenticationExtensionsClientInputs;
};

export type RequestOptionsJSON = {
  challenge: string;
  timeout?: number;
  rpId?: string;
  allowCredentials?: CredentialDescriptorJSON[];
  userVerification?: UserVerificationRequirement;
  extensions?: AuthenticationExtensionsClientInputs;
};

export type RegistrationResponseJSON = {
  id: string;
  rawId: string;
  type: "public-key";
  authenticatorAttachment?: string;
  clientExtensionResults: Record<string, unknown>;
  response: {
    clientDataJSON: string;
    attestationObject: string;
    authenticatorData?: string;
    transports?: string[];
    publicKeyAlgorithm?: number;
    publicKey?: string;
  };
};

export type AuthenticationResponseJSON = {
  id: string;
  rawId: string;
  type: "public-key";
  authenticatorAttachment?: string;
  clientExtensionResults: Record<string, unknown>;
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
};

export function base64urlEncode(data: ArrayBuffer | ArrayBufferView): string {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = "";
  for (let index = 0; index < bytes.length; index++) binary += String.fromCharCode(bytes[index]!);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64urlDecode(text: string): ArrayBuffer {
  // Only the base64url alphabet, without padding; a length of 1 mod 4 cannot come from any bytes.
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new ApiError(0, "passkey_options_invalid", "The server sent passkey data this page cannot read.");
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes.buffer;
}

const descriptor = (credential: CredentialDescriptorJSON): PublicKeyCredentialDescriptor => ({
  type: "public-key",
  id: base64urlDecode(credential.id),
  ...(credential.transports ? { transports: credential.transports as AuthenticatorTransport[] } : {}),
});

export function creationOptionsOf(json: CreationOptionsJSON): PublicKeyCredentialCreationOptions {
  return {
    rp: json.rp,
    user: { id: base64urlDecode(json.user.id), name: json.user.name, displayName: json.user.displayName },
    challenge: base64urlDecode(json.challenge),
    pubKeyCredParams: json.pubKeyCredParams,
    timeout: json.timeout,
    excludeCredentials: (json.excludeCredentials ?? []).map(descriptor),
    authenticatorSelection: json.authenticatorSelection,
    attestation: json.attestation,
    extensions: json.extensions,
  };
}

export function requestOptionsOf(json: RequestOptionsJSON): PublicKeyCredentialRequestOptions {
  return {
    challenge: base64urlDecode(json.challenge),
    timeout: json.timeout,
    rpId: json.rpId,
    allowCredentials: (json.allowCredentials ?? []).map(descriptor),
    userVerification: json.userVerification,
    extensions: json.extensions,
  };
}

// Extension results are plain values for what the server asks (credProps); anything binary is dropped.
function extensionResultsOf(credential: PublicKeyCredential): Record<string, unknown> {
  return JSON.parse(JSON.stringify(credential.getClientExtensionResults())) as Record<string, unknown>;
}

function attachmentOf(credential: PublicKeyCredential): { authenticatorAttachment?: string } {
  const attachment = credential.authenticatorAttachment;
  return attachment === "platform" || attachment === "cross-platform" ? { authenticatorAttachment: attachment } : {};
}

export function registrationResponseOf(credential: PublicKeyCredential): RegistrationResponseJSON {
  const response = credential.response as AuthenticatorAttestationResponse;
  // These getters came later than the rest of WebAuthn: sent when the browser has them.
  const publicKey = typeof response.getPublicKey === "function" ? response.getPublicKey() : null;
  const algorithm = typeof response.getPublicKeyAlgorithm === "function" ? response.getPublicKeyAlgorithm() : undefined;
  const authenticatorData = typeof response.getAuthenticatorData === "function" ? response.getAuthenticatorData() : undefined;
  const transports = typeof response.getTransports === "function" ? response.getTransports() : undefined;
  return {
    id: credential.id,
    rawId: base64urlEncode(credential.rawId),
    type: "public-key",
    ...attachmentOf(credential),
    clientExtensionResults: extensionResultsOf(credential),
    response: {
      clientDataJSON: base64urlEncode(response.clientDataJSON),
      attestationObject: base64urlEncode(response.attestationObject),
      ...(authenticatorData ? { authenticatorData: base64urlEncode(authenticatorData) } : {}),
      ...(transports ? { transports: transports.slice(0, 8) } : {}),
      ...(typeof algorithm === "number" ? { publicKeyAlgorithm: algorithm } : {}),
      ...(publicKey ? { publicKey: base64urlEncode(publicKey) } : {}),
    },
  };
}

export function authenticationResponseOf(credential: PublicKeyCredential): AuthenticationResponseJSON {
  const response = credential.response as AuthenticatorAssertionResponse;
  return {
    id: credential.id,
    rawId: base64urlEncode(credential.rawId),
    type: "public-key",
    ...attachmentOf(credential),
    clientExtensionResults: extensionResultsOf(credential),
    response: {
      clientDataJSON: base64urlEncode(response.clientDataJSON),
      authenticatorData: base64urlEncode(response.authenticatorData),
      signature: base64urlEncode(response.signature),
      ...(response.userHandle && response.userHandle.byteLength > 0 ? { userHandle: base64urlEncode(response.userHandle) } : {}),
    },
  };
}

export function passkeysSupported(): boolean {
  return typeof window.PublicKeyCredential === "function" && typeof navigator.credentials?.create === "function";
}

// Creates a passkey with the server's options; the browser's refusals become readable messages.
export async function createPasskey(options: CreationOptionsJSON): Promise<RegistrationResponseJSON> {
  if (!passkeysSupported()) throw new ApiError(0, "passkeys_unsupported", "This browser cannot use passkeys.");
  const credential = await navigator.credentials.create({ publicKey: creationOptionsOf(options) }).catch((error: unknown) => {
    throw browserRefusal(error, "create");
  });
  if (!(credential instanceof PublicKeyCredential)) throw new ApiError(0, "passkey_cancelled", "No passkey was created.");
  return registrationResponseOf(credential);
}

export async function passkeyAssertion(options: RequestOptionsJSON): Promise<AuthenticationResponseJSON> {
  if (!passkeysSupported()) throw new ApiError(0, "passkeys_unsupported", "This browser cannot use passkeys: choose another way to confirm it is you.");
  const credential = await navigator.credentials.get({ publicKey: requestOptionsOf(options) }).catch((error: unknown) => {
    throw browserRefusal(error, "get");
  });
  if (!(credential instanceof PublicKeyCredential)) throw new ApiError(0, "passkey_cancelled", "No passkey was used.");
  return authenticationResponseOf(credential);
}

function browserRefusal(error: unknown, step: "create" | "get"): ApiError {
  const name = error instanceof DOMException ? error.name : "";
  if (name === "InvalidStateError" && step === "create") return new ApiError(0, "passkey_exists", "This device already holds a passkey for your account.");
  if (name === "NotAllowedError" || name === "AbortError") {
    return new ApiError(0, "passkey_cancelled", step === "create" ? "The passkey was not created: it was cancelled or took too long." : "No passkey was used: it was cancelled or took too long.");
  }
  if (name === "SecurityError") return new ApiError(0, "passkey_refused", "The browser refused passkeys for this address.");
  return new ApiError(0, "passkey_failed", "The passkey did not work. Try again, or use another way.");
}
