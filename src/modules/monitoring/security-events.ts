// The security event bus: code that notices something (a ban, a burst of failed sign-ins, a failed
// audit write) emits an event; alerting and metrics subscribe. Emitting never blocks or throws.
export type SecurityEventType =
  | "new_device_login"
  | "failed_login_burst"
  | "credential_stuffing"
  | "mass_download"
  | "permission_escalation"
  | "ban"
  | "seal_failure"
  | "audit_write_failure"
  | "malware_detected"
  | "data_erased";

export type SecurityEvent = {
  type: SecurityEventType;
  at: string;
  // The company concerned, or null for installation-wide events (operator alerts only).
  tenantId: string | null;
  ip?: string | undefined;
  userId?: string | undefined;
  details: Record<string, string | number | boolean | null>;
};

export type SecurityEventListener = (event: SecurityEvent) => void | Promise<void>;

export type SecurityEvents = {
  emit(event: Omit<SecurityEvent, "at">): void;
  subscribe(listener: SecurityEventListener): () => void;
};

export function createSecurityEvents(onListenerError: (error: unknown, event: SecurityEvent) => void = () => {}): SecurityEvents {
  const listeners = new Set<SecurityEventListener>();
  return {
    emit(partial) {
      const event: SecurityEvent = { ...partial, at: new Date().toISOString() };
      for (const listener of listeners) {
        Promise.resolve()
          .then(() => listener(event))
          .catch((error: unknown) => onListenerError(error, event));
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

// Every type, for validating channel filters and walking all of them in tests; the Record keeps it complete.
const everyType: Record<SecurityEventType, true> = {
  new_device_login: true,
  failed_login_burst: true,
  credential_stuffing: true,
  mass_download: true,
  permission_escalation: true,
  ban: true,
  seal_failure: true,
  audit_write_failure: true,
  malware_detected: true,
  data_erased: true,
};
export const securityEventTypes = Object.keys(everyType) as readonly SecurityEventType[];
