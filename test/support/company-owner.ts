// A company and its owner, signed up through the real module on a test database, for module tests that
// need rows a user or company owns (API keys, devices).
import { signUp } from "../../src/modules/accounts/sign-up.ts";
import { emailIndexOf } from "../../src/modules/accounts/user-fields.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createOutboxSender } from "../../src/modules/messages/outbox-sender.ts";
import type { Vault } from "../../src/vault/vault.ts";
import type { TestDatabase } from "./databases.ts";

export async function signUpCompanyOwner(test: TestDatabase, vault: Vault, email: string): Promise<{ tenantId: string; userId: string }> {
  const db = test.database.db;
  const identity = createIdentityDeps({ db, vault, messages: createOutboxSender({ db, vault }), publicUrl: "https://localhost" });
  await signUp(identity, { companyName: `Company of ${email}`, name: "Owner", email, password: "a long enough test password" });
  const membership = await db.selectFrom("memberships").innerJoin("users", "users.id", "memberships.user_id")
    .select(["memberships.tenant_id", "memberships.user_id"]).where("users.email_index", "=", emailIndexOf(vault, email)).executeTakeFirstOrThrow();
  return { tenantId: membership.tenant_id, userId: membership.user_id };
}
