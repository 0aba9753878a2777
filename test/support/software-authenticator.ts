// A software WebAuthn authenticator (and the browser's part of the ceremony) for tests: real ECDSA
// P-256 keys from WebCrypto, real clientDataJSON, authenticator data with the relying party id hash,
// flags, a signature counter and attested credential data, a CBOR attestation object with fmt "none",
// and DER-encoded signatures — so the server's verification is exercised for real, not mocked.
import { createHash, randomBytes, webcrypto } from "node:crypto";

type CreationOptions = {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string };
  pubKeyCredParams: { alg: number; type: string }[];
  excludeCredentials?: { id: string }[];
};
type RequestOptions = { challenge: string; rpId?: string; allowCredentials?: { id: string }[] };

export type RegistrationResponse = {
  id: string;
  rawId: string;
  type: "public-key";
  authenticatorAttachment: "platform";
  clientExtensionResults: Record<string, never>;
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
};

export type AuthenticationResponse = {
  id: string;
  rawId: string;
  type: "public-key";
  authenticatorAttachment: "platform";
  clientExtensionResults: Record<string, never>;
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle: string };
};

type StoredCredential = { id: Buffer; rpId: string; userHandle: string; privateKey: webcrypto.CryptoKey; counter: number };

const es256 = -7;
const flagUserPresent = 0x01;
const flagUserVerified = 0x04;
const flagAttestedData = 0x40;

export function createSoftwareAuthenticator(input: { origin: string }) {
  const credentials = new Map<string, StoredCredential>();
  const origin = new URL(input.origin).origin;

  return {
    // navigator.credentials.create(): a new key pair for this relying party.
    async create(options: CreationOptions): Promise<RegistrationResponse> {
      if (!options.pubKeyCredParams.some((param) => param.alg === es256)) throw new Error("the relying party does not accept ES256");
      const rpId = options.rp.id ?? new URL(origin).hostname;
      if (options.excludeCredentials?.some((excluded) => credentials.has(excluded.id))) throw new Error("InvalidStateError: already registered");
      const keyPair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as webcrypto.CryptoKeyPair;
      const jwk = await webcrypto.subtle.exportKey("jwk", keyPair.publicKey);
      const id = randomBytes(32);
      const credential: StoredCredential = { id, rpId, userHandle: options.user.id, privateKey: keyPair.privateKey, counter: 0 };
      credentials.set(id.toString("base64url"), credential);

      const cosePublicKey = encodeCbor(new Map<number, unknown>([
        [1, 2], // kty: EC2
        [3, es256], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, "base64url")],
        [-3, Buffer.from(jwk.y!, "base64url")],
      ]));
      const credentialIdLength = Buffer.alloc(2);
      credentialIdLength.writeUInt16BE(id.length);
      const authenticatorData = Buffer.concat([
        authenticatorDataHead(rpId, flagUserPresent | flagUserVerified | flagAttestedData, credential.counter),
        Buffer.alloc(16), // AAGUID: none
        credentialIdLength,
        id,
        cosePublicKey,
      ]);
      const attestationObject = encodeCbor(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", authenticatorData]]));
      return {
        id: id.toString("base64url"),
        rawId: id.toString("base64url"),
        type: "public-key",
        authenticatorAttachment: "platform",
        clientExtensionResults: {},
        response: {
          clientDataJSON: clientData("webauthn.create", options.challenge),
          attestationObject: attestationObject.toString("base64url"),
          transports: ["internal"],
        },
      };
    },

    // navigator.credentials.get(): signs authenticatorData || SHA-256(clientDataJSON). `credentialId`
    // picks a held credential whatever the allow list says (to present a credential the server did not ask for).
    async get(options: RequestOptions, choice: { credentialId?: string } = {}): Promise<AuthenticationResponse> {
      const wanted = choice.credentialId ?? options.allowCredentials?.map((allowed) => allowed.id).find((id) => credentials.has(id));
      const credential = wanted === undefined ? undefined : credentials.get(wanted);
      if (!credential) throw new Error("NotAllowedError: no matching credential");
      if (options.rpId && options.rpId !== credential.rpId) throw new Error("NotAllowedError: credential is for another relying party");
      credential.counter += 1;
      const authenticatorData = authenticatorDataHead(credential.rpId, flagUserPresent | flagUserVerified, credential.counter);
      const clientDataJSON = clientData("webauthn.get", options.challenge);
      const signed = Buffer.concat([authenticatorData, sha256(Buffer.from(clientDataJSON, "base64url"))]);
      const raw = Buffer.from(await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, credential.privateKey, signed));
      return {
        id: credential.id.toString("base64url"),
        rawId: credential.id.toString("base64url"),
        type: "public-key",
        authenticatorAttachment: "platform",
        clientExtensionResults: {},
        response: {
          clientDataJSON,
          authenticatorData: authenticatorData.toString("base64url"),
          signature: derSignature(raw).toString("base64url"),
          userHandle: credential.userHandle,
        },
      };
    },

    // A cloned authenticator: the signature counter goes back.
    setCounter(credentialId: string, counter: number): void {
      const credential = credentials.get(credentialId);
      if (!credential) throw new Error("no such credential");
      credential.counter = counter;
    },

    credentialIds(): string[] {
      return [...credentials.keys()];
    },
  };

  function clientData(type: string, challenge: string): string {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false })).toString("base64url");
  }
}

export type SoftwareAuthenticator = ReturnType<typeof createSoftwareAuthenticator>;

function authenticatorDataHead(rpId: string, flags: number, counter: number): Buffer {
  const counterBytes = Buffer.alloc(4);
  counterBytes.writeUInt32BE(counter);
  return Buffer.concat([sha256(Buffer.from(rpId)), Buffer.from([flags]), counterBytes]);
}

function sha256(data: Buffer): Buffer {
  return createHash("sha256").update(data).digest();
}

// WebCrypto signs ECDSA as r || s; WebAuthn carries ASN.1 DER: SEQUENCE { INTEGER r, INTEGER s }.
function derSignature(raw: Buffer): Buffer {
  const integer = (bytes: Buffer) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const body = trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const content = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, content.length]), content]);
}

// The CBOR subset WebAuthn needs (RFC 8949): integers, byte and text strings, maps in the given order.
export function encodeCbor(value: unknown): Buffer {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error("only integers");
    return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  }
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  if (value instanceof Map) {
    const parts: Buffer[] = [cborHead(5, value.size)];
    for (const [key, item] of value) parts.push(encodeCbor(key), encodeCbor(item));
    return Buffer.concat(parts);
  }
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map(encodeCbor)]);
  throw new Error(`cannot encode ${typeof value} as CBOR`);
}

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const head = Buffer.alloc(3);
    head[0] = (major << 5) | 25;
    head.writeUInt16BE(length, 1);
    return head;
  }
  const head = Buffer.alloc(5);
  head[0] = (major << 5) | 26;
  head.writeUInt32BE(length, 1);
  return head;
}
