// Typed view of the database tables for Kysely; one source of truth for column types on both dialects.
// Binary columns read back as Buffer (a Uint8Array) and 64-bit integer columns as JS numbers on both dialects.

import type { Generated } from "kysely";

export type VaultSealTable = {
  /** Always 1: the installation has exactly one seal record. */
  id: number;
  installation_id: string;
  threshold: number;
  share_count: number;
  root_key_ciphertext: Uint8Array;
  created_at: string;
  updated_at: string;
};

export type VaultKeyringTable = {
  /** Always 1: the installation has exactly one keyring. */
  id: number;
  revision: number;
  ciphertext: Uint8Array;
  updated_at: string;
};

export type TenantKeyState = "active" | "retired";

export type TenantKeysTable = {
  tenant_id: string;
  version: number;
  keyring_term: number;
  wrapped_key: Uint8Array;
  uses_reserved: Generated<number>;
  state: TenantKeyState;
  created_at: string;
};

export type TenantsTable = {
  id: string;
  name_ciphertext: Uint8Array;
  created_at: string;
};

export type BlobObjectsTable = {
  tenant_id: string;
  id: string;
  blob_key: string;
  size: number;
  created_at: string;
};

export type DatabaseSchema = {
  vault_seal: VaultSealTable;
  vault_keyring: VaultKeyringTable;
  tenant_keys: TenantKeysTable;
  tenants: TenantsTable;
  blob_objects: BlobObjectsTable;
};
