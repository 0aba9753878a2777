// The settings of an S3-compatible bucket, the same wherever one is configured (the blob store, a
// backup destination).
import { z } from "zod";

export const s3SettingsSchema = z.object({
  kind: z.literal("s3"),
  endpoint: z.url().optional(),
  region: z.string().default("us-east-1"),
  bucket: z.string().min(3),
  prefix: z.string().default(""),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  forcePathStyle: z.boolean().default(false),
  caFile: z.string().optional(),
});
