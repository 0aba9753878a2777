// Detectors that turn raw signals into security events where no other module does: one principal
// downloading many objects in a short window (mass_download), and someone being made admin or owner
// (permission_escalation). Counters live in this node's memory, bounded in size.
import type { Role } from "../../store/schema.ts";
import type { SecurityEvents } from "./security-events.ts";

export type DetectorOptions = {
  events: SecurityEvents;
  /** More than `limit` downloads by one principal within `windowMs` raises mass_download (once per window). */
  massDownload?: { limit?: number; windowMs?: number };
  /** How many principals are tracked at once; the oldest are forgotten beyond it. */
  maxTrackedPrincipals?: number;
  now?: () => number;
};

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export function createDetectors(options: DetectorOptions) {
  const limit = options.massDownload?.limit ?? 200;
  const windowMs = options.massDownload?.windowMs ?? 600_000;
  const maxTracked = options.maxTrackedPrincipals ?? 50_000;
  const now = options.now ?? Date.now;
  // Per tenant+principal: download times within the window (at most limit + 1 kept) and when we last raised.
  const downloads = new Map<string, { times: number[]; raisedAt: number | null }>();

  return {
    // Called by the documents capability after each successful download of an object.
    noteDownload(tenantId: string, principalId: string, ip: string): void {
      const at = now();
      const key = `${tenantId}\u0000${principalId}`;
      let entry = downloads.get(key);
      if (entry) downloads.delete(key); // re-inserted below: the Map's order is least recently used first
      else entry = { times: [], raisedAt: null };
      entry.times = entry.times.filter((time) => at - time < windowMs);
      entry.times.push(at);
      if (entry.times.length > limit + 1) entry.times.splice(0, entry.times.length - (limit + 1));
      downloads.set(key, entry);
      if (downloads.size > maxTracked) downloads.delete(downloads.keys().next().value!);

      if (entry.times.length > limit && (entry.raisedAt === null || at - entry.raisedAt >= windowMs)) {
        entry.raisedAt = at;
        options.events.emit({
          type: "mass_download",
          tenantId,
          ip,
          userId: principalId,
          details: { principalId, downloads: entry.times.length, windowSeconds: Math.round(windowMs / 1000), limit },
        });
      }
    },

    // Called after a role change (or a grant on joining, fromRole undefined) has been stored.
    notePermissionChange(tenantId: string, actorId: string, targetUserId: string, fromRole: Role | undefined, toRole: Role): void {
      if (toRole !== "admin" && toRole !== "owner") return;
      if (fromRole !== undefined && rank[fromRole] >= rank[toRole]) return;
      options.events.emit({
        type: "permission_escalation",
        tenantId,
        userId: targetUserId,
        details: { actorId, targetUserId, fromRole: fromRole ?? null, toRole },
      });
    },
  };
}

export type Detectors = ReturnType<typeof createDetectors>;
