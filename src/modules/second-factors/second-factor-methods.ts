// Which second steps a user can take at sign-in beyond the e-mailed or texted code.
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../store/schema.ts";
import type { UserRow } from "../accounts/user-repository.ts";

export type StrongMethod = "totp" | "recovery_code" | "passkey";
export type SignInMethod = StrongMethod | "email_code" | "sms_code";

export async function secondFactorMethodsOf(db: Kysely<DatabaseSchema>, user: Pick<UserRow, "id" | "totp_enabled_at">): Promise<StrongMethod[]> {
  const methods: StrongMethod[] = [];
  if (user.totp_enabled_at) {
    methods.push("totp");
    const unused = await db.selectFrom("recovery_codes").select("code_hash").where("user_id", "=", user.id).where("used_at", "is", null).limit(1).executeTakeFirst();
    if (unused) methods.push("recovery_code");
  }
  const passkey = await db.selectFrom("webauthn_credentials").select("credential_id").where("user_id", "=", user.id).limit(1).executeTakeFirst();
  if (passkey) methods.push("passkey");
  return methods;
}
