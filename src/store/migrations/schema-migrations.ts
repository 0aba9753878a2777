// Every schema migration, in order. A static list (not a directory scan) so that the set of
// migrations is fixed at build time and reviewable in one place.

import { vaultMigration } from "./001-vault.ts";
import { identityMigration } from "./002-identity.ts";
import { auditMigration } from "./006-audit.ts";
import { operatorSessionsMigration } from "./005-operator-sessions.ts";
import { secondFactorsMigration } from "./003-second-factors.ts";
import { oidcLoginAttemptsMigration } from "./004-oidc-login-attempts.ts";
import { phoneVerificationMigration } from "./008-phone-verification.ts";
import { alertsMigration } from "./007-alerts.ts";
import { documentsMigration } from "./009-documents.ts";
import { searchIndexMigration } from "./011-search-index.ts";
import { sharingAndSupportAccessMigration } from "./010-sharing-and-support-access.ts";
import { sealsMigration } from "./012-seals.ts";
import { signatureRequestsMigration } from "./013-signature-requests.ts";
import { backupsMigration } from "./014-backups.ts";
import { dataLifecycleMigration } from "./015-data-lifecycle.ts";
import { listingOrderIndexMigration } from "./016-listing-order-index.ts";
import type { SchemaMigration } from "./schema-migration.ts";

export const schemaMigrations: readonly SchemaMigration[] = [vaultMigration, identityMigration, auditMigration, operatorSessionsMigration, secondFactorsMigration, oidcLoginAttemptsMigration, phoneVerificationMigration, alertsMigration, documentsMigration, searchIndexMigration, sharingAndSupportAccessMigration, sealsMigration, signatureRequestsMigration, backupsMigration, dataLifecycleMigration, listingOrderIndexMigration];
