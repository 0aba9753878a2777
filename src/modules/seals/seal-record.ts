// The seal record's signed form and storage context, shared by sealing, verification and the CLI.
import { verifyServiceSignature } from "../../vault/service-signing-key.ts";
import { canonicalJson } from "./canonical-json.ts";
import type { SealRecord } from "./seal-types.ts";

/**
 * The bytes the service key signs: canonical JSON of every field but `signature` and `keyId` (the
 * key id only names the key; a wrong one makes the check fail anyway).
 */
export function sealSignatureMessage(record: Omit<SealRecord, "signature" | "keyId">): Buffer {
  const { signature: _signature, keyId: _keyId, ...signed } = record as SealRecord;
  return Buffer.from(canonicalJson(signed), "utf8");
}

/** The transparency-log leaf of a seal: canonical JSON of the whole signed record. */
export function sealLeaf(record: SealRecord): Buffer {
  return Buffer.from(canonicalJson(record), "utf8");
}

export function verifySealRecordSignature(record: SealRecord, publicKeys: readonly { id: string; publicKeyPem: string }[]): boolean {
  const key = publicKeys.find((item) => item.id === record.keyId);
  return key !== undefined && verifyServiceSignature(key.publicKeyPem, sealSignatureMessage(record), record.signature);
}

export function sealRecordContext(tenantId: string, requestId: string) {
  return { tenantId, objectType: "seal_record", objectId: requestId, objectVersion: 1 };
}
