// SQL for users: looked up by the blind index of their e-mail, never by the e-mail itself.
import type { Kysely, Selectable } from "kysely";
import type { DatabaseSchema, UsersTable } from "../../store/schema.ts";

export type UserRow = Selectable<UsersTable>;

export function createUserRepository(db: Kysely<DatabaseSchema>) {
  return {
    findByEmailIndex(emailIndex: string): Promise<UserRow | undefined> {
      return db.selectFrom("users").selectAll().where("email_index", "=", emailIndex).executeTakeFirst();
    },
    findById(userId: string): Promise<UserRow | undefined> {
      return db.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirst();
    },
    async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
      await db.updateTable("users").set({ password_hash: passwordHash, updated_at: new Date().toISOString() }).where("id", "=", userId).execute();
    },
    async markEmailVerified(userId: string): Promise<void> {
      const at = new Date().toISOString();
      await db.updateTable("users").set({ email_verified_at: at, updated_at: at }).where("id", "=", userId).where("email_verified_at", "is", null).execute();
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
