// Configuration is read once at start-up from a JSON file, the environment and command-line flags
// (in rising precedence), validated into one typed object, and reported setting by setting when wrong.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { AppError } from "../errors/app-error.ts";
import { messagesConfigSchema } from "../modules/messages/messages-config.ts";
import { oidcConfigSchema } from "../modules/oidc/oidc-config.ts";
import { monitoringConfigSchema } from "../modules/monitoring/monitoring-config.ts";
import { abuseConfigSchema } from "../modules/abuse/abuse-config.ts";
import { malwareConfigSchema } from "../modules/malware/malware-config.ts";
import { privacyConfigSchema } from "../modules/privacy/privacy-config.ts";
import { backupConfigSchema } from "../modules/backup/backup-config.ts";
import { s3SettingsSchema } from "../store/s3-settings-schema.ts";

const port = z.coerce.number().int().min(0).max(65535);
const tlsFiles = z.object({ caFile: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional() });

const configSchema = z.object({
  dataDir: z.string().min(1).default("./data"),
  server: z.object({
    host: z.string().min(1).default("0.0.0.0"),
    port: port.default(8443),
    httpPort: port.default(8080),
    publicUrl: z.url({ protocol: /^https$/ }).optional(),
    bodyLimitBytes: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    // Only these addresses may set X-Forwarded-For; from anyone else it is ignored.
    trustedProxies: z.array(z.string().min(1)).default([]),
    operatorCidrs: z.array(z.string().min(1)).default(["127.0.0.1/32", "::1/128"]),
  }).prefault({}),
  tls: z.object({
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
  }).prefault({}).refine((tls) => Boolean(tls.certFile) === Boolean(tls.keyFile), {
    message: "set both tls.certFile and tls.keyFile, or neither (then a self-signed localhost certificate is made)",
  }),
  // The PAdES certificate (PEM, signer first, then its chain) and key for final PDFs; without them
  // the vault makes an ECDSA P-256 key and a self-signed certificate.
  documentSigning: z.object({
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
  }).prefault({}).refine((files) => Boolean(files.certFile) === Boolean(files.keyFile), {
    message: "set both documentSigning.certFile and documentSigning.keyFile, or neither (then a self-signed signing certificate is made)",
  }),
  database: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("sqlite"), path: z.string().optional() }),
    z.object({
      kind: z.literal("postgres"),
      url: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
      sslmode: z.enum(["disable", "require", "verify-full"]).default("disable"),
      ...tlsFiles.shape,
    }),
  ]).default({ kind: "sqlite" }),
  blobStore: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("fs"), directory: z.string().optional() }),
    s3SettingsSchema,
  ]).default({ kind: "fs" }),
  redis: z.object({
    url: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL"),
    ...tlsFiles.shape,
  }).optional(),
  messages: messagesConfigSchema,
  // Sign-in providers; each needs the redirect URI <publicUrl>/v1/auth/oidc/<id>/callback registered.
  oidcProviders: oidcConfigSchema,
  monitoring: monitoringConfigSchema,
  abuse: abuseConfigSchema,
  malware: malwareConfigSchema,
  // Sub-processors register and retention sweep interval.
  privacy: privacyConfigSchema,
  audit: z.object({
    // A second copy of every audit record, as JSON lines, outside the database.
    copyFile: z.string().min(1).optional(),
    checkpointEvery: z.coerce.number().int().min(1).max(100_000).default(100),
  }).prefault({}),
  documents: z.object({
    maxUploadBytes: z.coerce.number().int().min(1024).max(64 * 1024 ** 3).default(250 * 1024 * 1024),
  }).prefault({}),
  backup: backupConfigSchema,
  sessions: z.object({
    idleMinutes: z.coerce.number().int().min(5).max(24 * 60).default(120),
    absoluteHours: z.coerce.number().int().min(1).max(24 * 30).default(12),
  }).prefault({}),
  // Dev unseal keeps the only share on disk beside the data: convenient, and not for production.
  devUnseal: z.boolean().optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = z.infer<typeof configSchema> & {
  databasePath: string;
  blobDirectory: string;
  devUnsealEnabled: boolean;
};

export type ConfigSources = {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, unknown>;
};

const envMapping: Record<string, string[]> = {
  STRONGROOM_DATA_DIR: ["dataDir"],
  STRONGROOM_HOST: ["server", "host"],
  STRONGROOM_PORT: ["server", "port"],
  STRONGROOM_HTTP_PORT: ["server", "httpPort"],
  STRONGROOM_PUBLIC_URL: ["server", "publicUrl"],
  STRONGROOM_TLS_CERT_FILE: ["tls", "certFile"],
  STRONGROOM_TLS_KEY_FILE: ["tls", "keyFile"],
  STRONGROOM_DOCUMENT_SIGNING_CERT_FILE: ["documentSigning", "certFile"],
  STRONGROOM_DOCUMENT_SIGNING_KEY_FILE: ["documentSigning", "keyFile"],
  STRONGROOM_DATABASE_URL: ["database", "url"],
  STRONGROOM_DATABASE_SSLMODE: ["database", "sslmode"],
  STRONGROOM_DATABASE_CA_FILE: ["database", "caFile"],
  STRONGROOM_REDIS_URL: ["redis", "url"],
  STRONGROOM_LOG_LEVEL: ["logLevel"],
  STRONGROOM_AUDIT_COPY_FILE: ["audit", "copyFile"],
  STRONGROOM_MAX_UPLOAD_BYTES: ["documents", "maxUploadBytes"],
  STRONGROOM_RETENTION_SWEEP_MINUTES: ["privacy", "retentionSweepMinutes"],
  STRONGROOM_CLAMD_SOCKET: ["malware", "clamd", "socketPath"],
  STRONGROOM_CLAMD_HOST: ["malware", "clamd", "host"],
  STRONGROOM_CLAMD_PORT: ["malware", "clamd", "port"],
  STRONGROOM_ALERT_WEBHOOK_URL: ["monitoring", "operator", "webhookUrl"],
  STRONGROOM_ALERT_WEBHOOK_SECRET: ["monitoring", "operator", "webhookSecret"],
  STRONGROOM_ALERT_EMAIL: ["monitoring", "operator", "email"],
  // Secrets can come from the environment so they stay out of the configuration file.
  STRONGROOM_SMTP_HOST: ["messages", "email", "host"],
  STRONGROOM_SMTP_PORT: ["messages", "email", "port"],
  STRONGROOM_SMTP_USER: ["messages", "email", "user"],
  STRONGROOM_SMTP_PASSWORD: ["messages", "email", "password"],
  STRONGROOM_SMTP_FROM: ["messages", "email", "from"],
  STRONGROOM_SMS_URL: ["messages", "sms", "url"],
  STRONGROOM_SMS_TOKEN: ["messages", "sms", "token"],
};

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const raw: Record<string, unknown> = sources.file ? readConfigFile(sources.file) : {};
  for (const [name, path] of Object.entries(envMapping)) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(raw, path, value);
  }
  if (env.STRONGROOM_DATABASE_URL) setPath(raw, ["database", "kind"], "postgres");
  if (env.STRONGROOM_SMTP_HOST) setPath(raw, ["messages", "email", "kind"], "smtp");
  if (env.STRONGROOM_SMS_URL) setPath(raw, ["messages", "sms", "kind"], "http");
  if (env.STRONGROOM_DEV_UNSEAL) setPath(raw, ["devUnseal"], parseBoolean("STRONGROOM_DEV_UNSEAL", env.STRONGROOM_DEV_UNSEAL));
  if (env.STRONGROOM_TRUSTED_PROXIES) setPath(raw, ["server", "trustedProxies"], splitList(env.STRONGROOM_TRUSTED_PROXIES));
  if (env.STRONGROOM_OPERATOR_CIDRS) setPath(raw, ["server", "operatorCidrs"], splitList(env.STRONGROOM_OPERATOR_CIDRS));
  for (const [path, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) setPath(raw, path.split("."), value);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new AppError("config_invalid", `invalid configuration:\n${problems.join("\n")}`);
  }
  const config = parsed.data;
  const dataDir = resolve(config.dataDir);
  return {
    ...config,
    dataDir,
    databasePath: resolveIn(dataDir, config.database.kind === "sqlite" ? config.database.path : undefined, "strongroom.db"),
    blobDirectory: resolveIn(dataDir, config.blobStore.kind === "fs" ? config.blobStore.directory : undefined, "blobs"),
    devUnsealEnabled: config.devUnseal ?? config.database.kind === "sqlite",
  };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new AppError("config_invalid", `cannot read the configuration file ${file}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch {
    throw new AppError("config_invalid", `the configuration file ${file} is not a JSON object`);
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== "object" || child === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function parseBoolean(name: string, value: string): boolean {
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new AppError("config_invalid", `invalid configuration:\n  - ${name}: must be true or false`);
}

function splitList(value: string): string[] {
  return value.split(",").map((item) => item.trim()).filter(Boolean);
}

function resolveIn(dataDir: string, path: string | undefined, fallback: string): string {
  if (!path) return resolve(dataDir, fallback);
  return isAbsolute(path) ? path : resolve(dataDir, path);
}
