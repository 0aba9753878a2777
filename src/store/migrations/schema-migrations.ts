// Every schema migration, in order. A static list (not a directory scan) so that the set of
// migrations is fixed at build time and reviewable in one place.

import { vaultMigration } from "./001-vault.ts";
import { identityMigration } from "./002-identity.ts";
import type { SchemaMigration } from "./schema-migration.ts";

export const schemaMigrations: readonly SchemaMigration[] = [vaultMigration, identityMigration];
