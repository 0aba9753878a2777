// The manifest names every part of one backup with its SHA-256 and size. Its exact bytes are signed
// with the service key (verifiable by anyone with the public key) and MACed under the backup key
// (which only the custodians' shares can derive), so neither a forged nor a moved manifest passes.
import { z } from "zod";
import { AppError } from "../../errors/app-error.ts";

export const manifestFormat = "strongroom-backup/1";
/** Bounds what a (possibly hostile) manifest file can make a reader parse. */
export const maxManifestBytes = 256 * 1024 * 1024;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const size = z.number().int().min(0).max(2 ** 50);

const manifestSchema = z.object({
  format: z.literal(manifestFormat),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  createdAt: z.iso.datetime(),
  installationId: z.string().min(1).max(100),
  database: z.enum(["sqlite", "postgres"]),
  seal: z.object({ threshold: z.number().int().min(1).max(16), shareCount: z.number().int().min(1).max(16), rootKeyCiphertext: z.string().max(200) }),
  parts: z.array(z.object({ name: z.enum(["db.part", "index.part"]), sha256, size })).length(2)
    .refine((parts) => parts[0]!.name !== parts[1]!.name, { message: "each part once" }),
  blobs: z.array(z.object({ sha256, size })).max(50_000_000),
});

const manifestFileSchema = z.object({
  body: z.string(),
  mac: z.string().max(100),
  signature: z.object({ keyId: z.string().max(100), signature: z.string().max(200), publicKeyPem: z.string().max(2000) }),
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;

export function parseManifestFile(bytes: Buffer): { file: ManifestFile; manifest: BackupManifest } {
  const corrupt = (why: string) => new AppError("backup_corrupt", `manifest.json: ${why}`, { part: "manifest.json" });
  if (bytes.length > maxManifestBytes) throw corrupt("too large");
  let file: ManifestFile;
  let manifest: BackupManifest;
  try {
    file = manifestFileSchema.parse(JSON.parse(bytes.toString("utf8")));
    manifest = manifestSchema.parse(JSON.parse(file.body));
  } catch {
    throw corrupt("not a valid backup manifest");
  }
  return { file, manifest };
}

/** Backup ids sort by time: b<yyyymmddThhmmssZ>-<random>. */
export function backupIdAt(time: Date, random: string): string {
  return `b${time.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "z").toLowerCase()}-${random}`;
}
