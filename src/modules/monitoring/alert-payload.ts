// What an alert says: the event as JSON for webhooks and as plain text for e-mail. Only ids, addresses,
// counters and short labels go out; a detail whose name marks a secret is dropped, however it got there.
import { isSecretFieldName } from "../../log/logger.ts";
import type { SecurityEvent, SecurityEventType } from "./security-events.ts";

export type AlertEventType = SecurityEventType | "test";

export type AlertPayload = {
  id: string;
  type: AlertEventType;
  at: string;
  tenantId: string | null;
  ip: string | null;
  userId: string | null;
  details: Record<string, string | number | boolean | null>;
};

const maxDetails = 32;
const maxDetailLength = 200;

const titles: Record<AlertEventType, string> = {
  new_device_login: "Sign-in from a new device",
  failed_login_burst: "Burst of failed sign-ins",
  credential_stuffing: "Credential stuffing across accounts",
  mass_download: "Mass download",
  permission_escalation: "Permission escalation",
  ban: "Address or account banned",
  seal_failure: "Seal failure",
  audit_write_failure: "Audit write failure",
  malware_detected: "Malware detected in an upload",
  data_erased: "Data erased (keys destroyed)",
  test: "Test alert",
};

export function alertTitle(type: AlertEventType): string {
  return titles[type] ?? type;
}

export function alertPayloadOf(id: string, event: Pick<SecurityEvent, "at" | "tenantId" | "ip" | "userId" | "details"> & { type: AlertEventType }): AlertPayload {
  const details: AlertPayload["details"] = {};
  for (const [key, value] of Object.entries(event.details ?? {}).slice(0, maxDetails)) {
    if (isSecretFieldName(key) || key.length > 64) continue;
    if (typeof value === "string") details[key] = value.slice(0, maxDetailLength);
    else if (typeof value === "number" || typeof value === "boolean" || value === null) details[key] = value;
  }
  return {
    id,
    type: event.type,
    at: event.at,
    tenantId: event.tenantId,
    ip: event.ip ?? null,
    userId: event.userId ?? null,
    details,
  };
}

export function alertEmailOf(payload: AlertPayload): { subject: string; text: string } {
  const lines = [
    `Strongroom security alert: ${alertTitle(payload.type)}`,
    "",
    `Event:   ${payload.type}`,
    `When:    ${payload.at}`,
    `Company: ${payload.tenantId ?? "(installation-wide)"}`,
    ...(payload.ip ? [`Address: ${payload.ip}`] : []),
    ...(payload.userId ? [`User:    ${payload.userId}`] : []),
    ...Object.entries(payload.details).map(([key, value]) => `${key}: ${String(value)}`),
    "",
    `Event id: ${payload.id}`,
    "Review the company's audit log for the records around this time.",
  ];
  return { subject: `[Strongroom] ${alertTitle(payload.type)}`, text: `${lines.join("\n")}\n` };
}
