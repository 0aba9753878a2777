// The company rule on its own: which actions it guards, for whom, and which factors satisfy it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAppError } from "../../errors/app-error.ts";
import type { TenantAction } from "../tenants/tenant-policy.ts";
import { requireStrongFactorForAdminAction } from "./admin-mfa-rule.ts";

const refused = (input: Parameters<typeof requireStrongFactorForAdminAction>[0]) => {
  try {
    requireStrongFactorForAdminAction(input);
    return false;
  } catch (error) {
    assert.ok(isAppError(error) && error.code === "second_factor_required");
    return true;
  }
};

describe("require_admin_mfa", () => {
  it("guards admin actions of owners and admins whose session used no strong factor", () => {
    for (const action of ["invite_members", "change_roles", "manage_settings", "manage_api_keys", "transfer_ownership"] as TenantAction[]) {
      for (const role of ["owner", "admin"] as const) {
        for (const secondFactor of [null, "email_code", "sms_code", "recovery_code"]) assert.ok(refused({ requireAdminMfa: 1, role, action, secondFactor }), `${role} ${action} ${secondFactor}`);
        for (const secondFactor of ["totp", "passkey"]) assert.ok(!refused({ requireAdminMfa: 1, role, action, secondFactor }));
      }
    }
  });

  it("leaves member actions, and companies without the rule, alone", () => {
    for (const action of ["view_tenant", "view_members"] as TenantAction[]) assert.ok(!refused({ requireAdminMfa: 1, role: "owner", action, secondFactor: "email_code" }));
    assert.ok(!refused({ requireAdminMfa: 0, role: "owner", action: "manage_settings", secondFactor: null }));
  });
});
