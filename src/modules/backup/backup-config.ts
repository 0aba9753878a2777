// Backup settings: where backups go (directories and S3-compatible buckets), when they run, how long
// they are kept, and the interval of continuous mode.
import { z } from "zod";
import { s3SettingsSchema } from "../../store/s3-settings-schema.ts";

const destinationName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "lower-case letters, digits, _ and -, at most 40");

const backupDestinationSchema = z.discriminatedUnion("kind", [
  z.object({ name: destinationName, kind: z.literal("directory"), path: z.string().min(1) }),
  s3SettingsSchema.extend({ name: destinationName }),
]);

export const backupConfigSchema = z.object({
  destinations: z.array(backupDestinationSchema).max(8).default([])
    .refine((list) => new Set(list.map((destination) => destination.name)).size === list.length, { message: "destination names must be unique" }),
  schedule: z.object({
    enabled: z.boolean().default(true),
    // Nightly at this hour (UTC) unless intervalMinutes is set.
    hourUtc: z.coerce.number().int().min(0).max(23).default(2),
    intervalMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60).optional(),
  }).prefault({}),
  retentionDays: z.coerce.number().int().min(1).max(36_500).default(365),
  continuousIntervalSeconds: z.coerce.number().int().min(10).max(86_400).default(300),
  // How long a run's lease lasts without renewal: a node killed mid-backup blocks others this long.
  leaseSeconds: z.coerce.number().int().min(2).max(3600).default(120),
  // Where pg_dump and pg_restore are; by default the newest /usr/lib/postgresql/*/bin, else PATH.
  postgresBinDir: z.string().optional(),
}).prefault({});

export type BackupConfig = z.infer<typeof backupConfigSchema>;
export type BackupDestinationConfig = z.infer<typeof backupDestinationSchema>;
