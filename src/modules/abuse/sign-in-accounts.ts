// What the guard may ask about the account a sign-in names (by the e-mail's blind index): whose it
// is, for events, and whether the browser's device cookie is one of that account's known devices.
import type { FastifyRequest } from "fastify";
import { deviceCookieName, readCookie } from "../../http/cookies.ts";
import { createUserRepository } from "../accounts/user-repository.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";

export function createSignInAccountLookups(deps: Pick<IdentityDeps, "db" | "devices">) {
  const users = createUserRepository(deps.db);
  return {
    async userIdOfAccount(account: string): Promise<string | undefined> {
      return (await users.findByEmailIndex(account))?.id;
    },
    async recogniseDevice(request: FastifyRequest, account: string): Promise<boolean> {
      const cookie = readCookie(request, deviceCookieName);
      if (!cookie) return false;
      const user = await users.findByEmailIndex(account);
      return user ? (await deps.devices.recognise(user.id, cookie)) !== undefined : false;
    },
  };
}
