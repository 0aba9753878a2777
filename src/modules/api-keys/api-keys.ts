// Per-company API keys, sent as HTTP Basic `keyId:secret`. The secret (256 bits) is shown once and
// stored as a keyed HMAC: checking it is one fast hash and a constant-time compare, not a slow KDF,
// because a random 256-bit secret cannot be guessed and requests must stay fast.
import { randomBytes } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import { AppError } from "../../errors/app-error.ts";
import { writeAndAnnounce } from "../../store/change-notices.ts";
import { rowCachePerDatabase } from "../../store/row-cache.ts";
import type { ApiKeysTable, DatabaseSchema } from "../../store/schema.ts";
import { secretsEqual } from "../../vault/constant-time.ts";
import type { Vault } from "../../vault/vault.ts";

export const apiScopes = ["read", "write", "sign", "admin"] as const;
export type ApiScope = (typeof apiScopes)[number];

export type ApiKeyPrincipal = { kind: "api_key"; keyId: string; tenantId: string; scopes: ApiScope[] };

export const maxApiKeysPerTenant = 100;
const keyIdPattern = /^srk_[0-9a-f]{24}$/;
const lastUsedEveryMs = 60_000;
const unknownKeyHash = "x".repeat(43);

// What a request checks of a key, read once from its row. Kept in memory so a request needs no database
// read; a revocation or the company's erasure drops it on every node at once (store/change-notices.ts).
// The secret is still checked against the stored hash on every request.
type KnownKey = {
  tenantId: string;
  secretHash: string;
  scopes: ApiScope[];
  revoked: boolean;
  expiresAtMs: number | null;
  lastUsedAtMs: number | null;
  lastUsedIp: string | null;
};

const keyCacheOf = rowCachePerDatabase<KnownKey>({
  topic: "api_key",
  maxEntries: 10_000,
  maxAgeMs: 60_000,
  alsoDroppedBy: (notice, key) => notice.topic === "tenant" && key.tenantId === notice.key,
});

function knownKeyOf(row: Selectable<ApiKeysTable>): KnownKey {
  return {
    tenantId: row.tenant_id,
    secretHash: row.secret_hash,
    // Shared by every request of this key: frozen, so no caller can change another request's scopes.
    scopes: Object.freeze((JSON.parse(row.scopes) as unknown[]).filter(isApiScope)) as ApiScope[],
    revoked: row.revoked_at !== null,
    expiresAtMs: row.expires_at === null ? null : Date.parse(row.expires_at),
    lastUsedAtMs: row.last_used_at === null ? null : Date.parse(row.last_used_at),
    lastUsedIp: row.last_used_ip,
  };
}

export function isApiScope(value: unknown): value is ApiScope {
  return typeof value === "string" && (apiScopes as readonly string[]).includes(value);
}

function nameContext(tenantId: string, keyId: string) {
  return { tenantId, objectType: "api_key", objectId: keyId, objectVersion: 1, field: "name" };
}

export async function createApiKey(
  db: Kysely<DatabaseSchema>,
  vault: Vault,
  input: { tenantId: string; createdBy: string; name: string; scopes: ApiScope[]; expiresAt: string | null },
): Promise<{ id: string; key: string }> {
  const count = await db.selectFrom("api_keys").select((eb) => eb.fn.countAll<number>().as("count"))
    .where("tenant_id", "=", input.tenantId).where("revoked_at", "is", null).executeTakeFirstOrThrow();
  if (Number(count.count) >= maxApiKeysPerTenant) throw new AppError("conflict", `a company may have at most ${maxApiKeysPerTenant} active API keys`);
  if (input.expiresAt && Date.parse(input.expiresAt) <= Date.now()) throw new AppError("validation_failed", "expiresAt must be in the future");
  const id = `srk_${randomBytes(12).toString("hex")}`;
  const secret = randomBytes(32).toString("base64url");
  await db.insertInto("api_keys").values({
    id,
    tenant_id: input.tenantId,
    secret_hash: vault.mac("api-key-secret", `${id}:${secret}`),
    name_ciphertext: await vault.data.sealString(nameContext(input.tenantId, id), input.name),
    scopes: JSON.stringify([...new Set(input.scopes)]),
    created_by: input.createdBy,
    expires_at: input.expiresAt,
    revoked_at: null,
    last_used_at: null,
    last_used_ip: null,
    created_at: new Date().toISOString(),
  }).execute();
  return { id, key: `${id}:${secret}` };
}

// What a connection last proved: the exact Authorization header and the key it matched. The next request
// on that connection with the same header needs no keyed hash: decoding the header and the HMAC were about
// a third of an API-key request's CPU time on bench/auth.ts's server. The header is compared in constant time,
// because behind a proxy one connection carries many callers; the key itself (revoked, expired, erased)
// is still checked on every request, and a changed secret hash means a full check.
type ProvenCredential = { header: Buffer; keyId: string; secretHash: string };
const provenOnConnection = new WeakMap<object, ProvenCredential>();

const maxHeaderLength = 512;
const maxCredentialLength = 256;

// True when the header is HTTP Basic, i.e. the caller means an API key (a wrong one is refused, never ignored).
export function isBasicAuthorization(header: string | undefined): header is string {
  return header !== undefined && header.length > 6 && header.slice(0, 6).toLowerCase() === "basic ";
}

// `keyId:secret` from `Authorization: Basic base64(keyId:secret)`; keyId "" when it has no colon.
export function parseBasicCredentials(header: string): { keyId: string; credential: string } {
  const credential = header.length > maxHeaderLength ? "" : Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const index = credential.indexOf(":");
  return { keyId: index > 0 ? credential.slice(0, index) : "", credential };
}

// Checks an `Authorization: Basic …` header. `connection` is the request's socket (see ProvenCredential).
// Answers without a promise when the key is in memory and its last use needs no update (most requests).
export function authenticateApiKey(db: Kysely<DatabaseSchema>, vault: Vault, header: string, ip: string, connection: object): ApiKeyPrincipal | Promise<ApiKeyPrincipal> {
  const presented = Buffer.from(header, "latin1");
  const proven = provenOnConnection.get(connection);
  const sameAsProven = proven !== undefined && secretsEqual(presented, proven.header);
  const parsed = sameAsProven ? undefined : parseBasicCredentials(header);
  const keyId = parsed ? parsed.keyId : proven!.keyId;
  if (!keyIdPattern.test(keyId)) throw invalidKey();
  const cache = keyCacheOf(db);
  const check = (key: KnownKey | undefined) => checkKey(db, vault, { header, presented, keyId, credential: parsed?.credential, ip, connection, proven: sameAsProven ? proven : undefined }, key);
  const cached = cache.peek(keyId);
  if (cached) return check(cached);
  return cache.get(keyId, async () => {
    const row = await db.selectFrom("api_keys").selectAll().where("id", "=", keyId).executeTakeFirst();
    return row && knownKeyOf(row);
  }).then(check);
}

// `credential` is the decoded header when it was decoded (not for a header the connection had proven).
type Presented = { header: string; presented: Buffer; keyId: string; credential: string | undefined; ip: string; connection: object; proven: ProvenCredential | undefined };

function checkKey(db: Kysely<DatabaseSchema>, vault: Vault, given: Presented, key: KnownKey | undefined): ApiKeyPrincipal | Promise<ApiKeyPrincipal> {
  const { keyId, ip, connection } = given;
  let matches: boolean;
  if (given.proven && key?.secretHash === given.proven.secretHash) {
    matches = true;
  } else {
    provenOnConnection.delete(connection);
    const credential = given.credential ?? parseBasicCredentials(given.header).credential;
    // Hash even for an unknown id, so timing does not tell which ids exist.
    matches = credential.length <= maxCredentialLength && vault.macMatches("api-key-secret", credential, key?.secretHash ?? unknownKeyHash);
    if (matches && key) provenOnConnection.set(connection, { header: given.presented, keyId, secretHash: key.secretHash });
  }
  const now = Date.now();
  if (!key || !matches || key.revoked || (key.expiresAtMs !== null && key.expiresAtMs <= now)) throw invalidKey();
  const principal: ApiKeyPrincipal = { kind: "api_key", keyId, tenantId: key.tenantId, scopes: key.scopes };
  if (key.lastUsedAtMs !== null && now - key.lastUsedAtMs <= lastUsedEveryMs && key.lastUsedIp === ip) return principal;
  return db.updateTable("api_keys").set({ last_used_at: new Date(now).toISOString(), last_used_ip: ip }).where("id", "=", keyId).execute().then(() => {
    keyCacheOf(db).refresh(keyId, { ...key, lastUsedAtMs: now, lastUsedIp: ip });
    return principal;
  });
}

function invalidKey(): AppError {
  return new AppError("api_key_invalid", "the API key is invalid, expired or revoked");
}

export async function listApiKeys(db: Kysely<DatabaseSchema>, vault: Vault, tenantId: string) {
  const rows = await db.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at", "desc").limit(maxApiKeysPerTenant * 10).execute();
  return Promise.all(rows.map(async (row) => ({
    id: row.id,
    name: await vault.data.openString(nameContext(tenantId, row.id), row.name_ciphertext),
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    lastUsedIp: row.last_used_ip,
  })));
}

export async function revokeApiKey(db: Kysely<DatabaseSchema>, tenantId: string, keyId: string): Promise<void> {
  await writeAndAnnounce(db, "api_key", keyId, async (trx) => {
    const result = await trx.updateTable("api_keys").set({ revoked_at: new Date().toISOString() })
      .where("tenant_id", "=", tenantId).where("id", "=", keyId).where("revoked_at", "is", null).executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new AppError("not_found", "no such API key");
  });
}
