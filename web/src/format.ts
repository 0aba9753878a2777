// Showing server timestamps (ISO 8601, UTC) in the reader's own time zone and language.
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "never";
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return time.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// With seconds, for records where the order of close events matters (the audit log).
export function formatExactTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return time.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}
