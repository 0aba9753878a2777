// An audit record and how it is chained: each record's hash is a keyed HMAC (vault purpose
// "audit-chain") over the previous record's hash and the record's immutable fields, so an edited,
// removed or reordered record breaks the chain. The result, known only when the request ends, has its
// own hash over the record hash.
import { createHash } from "node:crypto";
import type { Vault } from "../../vault/vault.ts";

export type ActorType = "user" | "api_key" | "operator" | "anonymous" | "system";

export type AuditEntry = {
  id: string;
  at: string;
  tenantId: string | null;
  actorType: ActorType;
  actorId: string | null;
  ip: string;
  action: string;
  object: Record<string, string>;
  requestId: string | null;
};

export type AuditDetails = Record<string, string | number | boolean | null>;

// Known only when the request ends: the outcome, whom it concerned, and details the handler added.
export type AuditResult = {
  result: "ok" | "denied" | "error";
  status: number | null;
  errorCode: string | null;
  subjectId: string | null;
  details: AuditDetails;
};

export const genesisHash = "genesis";

export function chainIdFor(tenantId: string | null): string {
  return tenantId ?? "system";
}

export function recordHash(vault: Vault, chainId: string, seq: number, previousHash: string, entry: AuditEntry): string {
  const canonical = JSON.stringify([
    chainId, seq, previousHash, entry.id, entry.at, entry.tenantId, entry.actorType, entry.actorId, entry.ip,
    entry.action, sortedObject(entry.object), entry.requestId,
  ]);
  return vault.mac("audit-chain", canonical);
}

export function resultHash(recordHashValue: string, result: AuditResult): string {
  return createHash("sha256")
    .update(JSON.stringify([recordHashValue, result.result, result.status, result.errorCode, result.subjectId, sortedObject(result.details)]))
    .digest("base64url");
}

export function checkpointMessage(chainId: string, seq: number, recordHashValue: string, at: string): Buffer {
  return Buffer.from(JSON.stringify(["strongroom-audit-checkpoint-v1", chainId, seq, recordHashValue, at]), "utf8");
}

function sortedObject<T>(value: Record<string, T>): [string, T][] {
  return Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
