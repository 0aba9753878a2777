// How a user's personal fields are sealed: under the user's own key owner ("user:<id>"), so erasing a
// user (crypto-shredding) makes their e-mail and name unreadable everywhere, backups included.
import type { Vault } from "../../vault/vault.ts";

export type UserField = "email" | "name" | "phone" | "totp_secret";

export function userFieldContext(userId: string, field: UserField) {
  return { tenantId: `user:${userId}`, objectType: "user", objectId: userId, objectVersion: 1, field };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function emailIndexOf(vault: Vault, email: string): string {
  return vault.mac("email-index", normaliseEmail(email));
}

export function sealUserField(vault: Vault, userId: string, field: UserField, value: string): Promise<Buffer> {
  return vault.data.sealString(userFieldContext(userId, field), value);
}

export function openUserField(vault: Vault, userId: string, field: UserField, sealed: Uint8Array): Promise<string> {
  return vault.data.openString(userFieldContext(userId, field), sealed);
}
