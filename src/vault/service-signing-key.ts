// The service's own signing key (Ed25519): it signs audit checkpoints now and document seals later.
// The private key is kept sealed in the database; anyone can verify with the public key alone.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from "node:crypto";
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../store/schema.ts";
import type { TenantData } from "./tenant-data.ts";

export type ServiceSignature = { keyId: string; signature: string };

const owner = "system:service-key";
const contextOf = (keyId: string) => ({ tenantId: owner, objectType: "service_key", objectId: keyId, objectVersion: 1 });

export function createServiceSigningKey(db: Kysely<DatabaseSchema>, data: () => TenantData) {
  let active: { id: string; privateKey: KeyObject } | undefined;

  async function load(): Promise<{ id: string; privateKey: KeyObject }> {
    if (active) return active;
    let row = await db.selectFrom("service_keys").selectAll().where("retired_at", "is", null).orderBy("created_at", "desc").executeTakeFirst();
    if (!row) {
      const id = `sk_${randomBytes(8).toString("hex")}`;
      const { publicKey, privateKey } = generateKeyPairSync("ed25519");
      const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      await db.insertInto("service_keys").values({
        id,
        algorithm: "ed25519",
        public_key_pem: publicKey.export({ type: "spki", format: "pem" }).toString(),
        private_key_ciphertext: await data().sealString(contextOf(id), privatePem),
        created_at: new Date().toISOString(),
        retired_at: null,
      }).onConflict((oc) => oc.doNothing()).execute();
      row = await db.selectFrom("service_keys").selectAll().where("retired_at", "is", null).orderBy("created_at", "desc").executeTakeFirstOrThrow();
    }
    const pem = await data().openString(contextOf(row.id), row.private_key_ciphertext);
    active = { id: row.id, privateKey: createPrivateKey(pem) };
    return active;
  }

  return {
    async sign(message: Uint8Array): Promise<ServiceSignature> {
      const key = await load();
      return { keyId: key.id, signature: sign(null, message, key.privateKey).toString("base64url") };
    },
    async publicKeys(): Promise<{ id: string; publicKeyPem: string }[]> {
      const rows = await db.selectFrom("service_keys").select(["id", "public_key_pem"]).orderBy("created_at").execute();
      return rows.map((row) => ({ id: row.id, publicKeyPem: row.public_key_pem }));
    },
    forget(): void {
      active = undefined;
    },
  };
}

export function verifyServiceSignature(publicKeyPem: string, message: Uint8Array, signature: string): boolean {
  try {
    return verify(null, message, createPublicKey(publicKeyPem), Buffer.from(signature, "base64url"));
  } catch {
    return false;
  }
}
