// /v1/tenants/:tenantId/…: a company's members, invitations, groups, API keys and address allow-list.
// Every handler passes requireTenantAccess first: non-members get 404, roles and scopes bound actions.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { type Authenticator, optionalPrincipalOf, principalOf } from "../../http/authenticate.ts";
import { createAddressFilter } from "../../http/ip-filter.ts";
import type { Role } from "../../store/schema.ts";
import { openUserField } from "../accounts/user-fields.ts";
import { apiScopes, createApiKey, listApiKeys, revokeApiKey, type ApiScope } from "../api-keys/api-keys.ts";
import type { IdentityDeps } from "../auth/identity-deps.ts";
import { newPublicId } from "../auth/secret-tokens.ts";
import { acceptInvitation, inviteMember } from "./invitations.ts";
import { requireTenantAccess } from "./tenant-access.ts";
import { requireMayAssign, roles } from "./tenant-policy.ts";
import { createTenantRepository } from "./tenant-repository.ts";
import type { TenantAction } from "./tenant-policy.ts";

type TenantParams = { tenantId: string };
type MemberParams = { tenantId: string; userId: string };

const id = { type: "string", minLength: 1, maxLength: 64 } as const;
const role = { type: "string", enum: roles } as const;
const body = (properties: Record<string, unknown>, required: string[]) =>
  ({ type: "object", additionalProperties: false, properties, required }) as const;
const maxAllowlistEntries = 100;
const tenantView = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    role: { type: ["string", "null"] },
    ipAllowlist: { type: "array", items: { type: "string" } },
  },
} as const;
const maxGroupsPerTenant = 1000;

type RoleChangeListener = (tenantId: string, actorId: string, targetUserId: string, fromRole: Role | undefined, toRole: Role) => void;

export async function registerTenantRoutes(app: FastifyInstance, deps: IdentityDeps, auth: Authenticator, onRoleChange: RoleChangeListener = () => {}): Promise<void> {
  const tenants = createTenantRepository(deps.db);
  const access = (request: FastifyRequest<{ Params: TenantParams }>, action: TenantAction) =>
    requireTenantAccess(deps.db, principalOf(request), request.params.tenantId, action, request.ip);
  const actingUser = (granted: Awaited<ReturnType<typeof access>>) => {
    if (granted.principal.kind !== "user" || !granted.role) throw new AppError("forbidden", "this action needs a signed-in person, not an API key");
    return { userId: granted.principal.userId, role: granted.role };
  };
  const tenantName = async (tenantId: string, sealed: Uint8Array) =>
    deps.vault.data.openString({ tenantId, objectType: "tenant", objectId: tenantId, objectVersion: 1, field: "name" }, sealed);
  const memberOrNotFound = async (tenantId: string, userId: string) => {
    const membership = await tenants.membership(tenantId, userId);
    if (!membership) throw new AppError("not_found", "no such member");
    return membership;
  };
  const params = { type: "object", properties: { tenantId: id }, required: ["tenantId"] } as const;
  const memberParams = { type: "object", properties: { tenantId: id, userId: id }, required: ["tenantId", "userId"] } as const;
  const guarded = { preHandler: auth.requirePrincipal };

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId", { ...guarded, schema: { params, response: { 200: tenantView } } }, async (request) => {
    const granted = await access(request, "view_tenant");
    return {
      id: granted.tenantId,
      name: await tenantName(granted.tenantId, granted.tenant.name_ciphertext),
      role: granted.role ?? null,
      ipAllowlist: granted.tenant.allowlist,
    };
  });

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/members", { ...guarded, schema: { params } }, async (request) => {
    const granted = await access(request, "view_members");
    const members = await tenants.members(granted.tenantId);
    return {
      members: await Promise.all(members.map(async (member) => {
        const user = await deps.db.selectFrom("users").select(["email_ciphertext", "name_ciphertext"]).where("id", "=", member.user_id).executeTakeFirstOrThrow();
        return {
          userId: member.user_id,
          email: await openUserField(deps.vault, member.user_id, "email", user.email_ciphertext),
          name: await openUserField(deps.vault, member.user_id, "name", user.name_ciphertext),
          role: member.role,
          status: member.status,
        };
      })),
    };
  });

  app.patch<{ Params: MemberParams; Body: { role: Role } }>("/v1/tenants/:tenantId/members/:userId", {
    ...guarded, schema: { params: memberParams, body: body({ role }, ["role"]) },
  }, async (request) => {
    const granted = await access(request, "change_roles");
    const actor = actingUser(granted);
    const member = await memberOrNotFound(granted.tenantId, request.params.userId);
    requireMayAssign(actor.role, member.role, request.body.role);
    if (member.role === "owner" && request.body.role !== "owner" && (await tenants.countOwners(granted.tenantId)) <= 1) {
      throw new AppError("conflict", "a company needs at least one owner");
    }
    await tenants.setRole(granted.tenantId, member.user_id, request.body.role);
    onRoleChange(granted.tenantId, actor.userId, member.user_id, member.role, request.body.role);
    return { userId: member.user_id, role: request.body.role };
  });

  for (const [verb, status] of [["suspend", "suspended"], ["reactivate", "active"]] as const) {
    app.post<{ Params: MemberParams }>(`/v1/tenants/:tenantId/members/:userId/${verb}`, { ...guarded, schema: { params: memberParams } }, async (request) => {
      const granted = await access(request, "suspend_members");
      const actor = actingUser(granted);
      const member = await memberOrNotFound(granted.tenantId, request.params.userId);
      if (member.user_id === actor.userId) throw new AppError("conflict", "you cannot suspend yourself");
      requireMayAssign(actor.role, member.role, member.role);
      await tenants.setStatus(granted.tenantId, member.user_id, status);
      return { userId: member.user_id, status };
    });
  }

  app.delete<{ Params: MemberParams }>("/v1/tenants/:tenantId/members/:userId", { ...guarded, schema: { params: memberParams } }, async (request) => {
    const granted = await access(request, "suspend_members");
    const actor = actingUser(granted);
    const member = await memberOrNotFound(granted.tenantId, request.params.userId);
    requireMayAssign(actor.role, member.role, member.role);
    if (member.role === "owner" && (await tenants.countOwners(granted.tenantId)) <= 1) throw new AppError("conflict", "a company needs at least one owner");
    await tenants.removeMember(granted.tenantId, member.user_id);
    return { status: "removed" };
  });

  app.post<{ Params: TenantParams; Body: { email: string; role: Role } }>("/v1/tenants/:tenantId/invitations", {
    ...guarded,
    schema: { params, body: body({ email: { type: "string", minLength: 3, maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" }, role }, ["email", "role"]) },
  }, async (request, reply) => {
    const granted = await access(request, "invite_members");
    const inviter = actingUser(granted);
    const invitation = await inviteMember(deps, granted.tenantId, inviter, request.body.email, request.body.role);
    onRoleChange(granted.tenantId, inviter.userId, `invitation:${invitation.id}`, undefined, request.body.role);
    return reply.code(201).send(invitation);
  });

  app.post<{ Body: { token: string; name?: string; password?: string } }>("/v1/invitations/accept", {
    preHandler: auth.optionalUser,
    schema: { body: body({ token: { type: "string", minLength: 20, maxLength: 200 }, name: { type: "string", maxLength: 200 }, password: { type: "string", maxLength: 1024 } }, ["token"]) },
  }, async (request) => {
    const principal = optionalPrincipalOf(request);
    const accepted = await acceptInvitation(deps, {
      token: request.body.token,
      signedInUserId: principal?.kind === "user" ? principal.userId : undefined,
      name: request.body.name,
      password: request.body.password,
    });
    return { tenantId: accepted.tenantId, status: "joined" };
  });

  app.put<{ Params: TenantParams; Body: { cidrs: string[] } }>("/v1/tenants/:tenantId/ip-allowlist", {
    ...guarded,
    schema: { params, body: body({ cidrs: { type: "array", maxItems: maxAllowlistEntries, items: { type: "string", minLength: 2, maxLength: 64 } } }, ["cidrs"]) },
  }, async (request) => {
    const granted = await access(request, "manage_settings");
    createAddressFilter(request.body.cidrs);
    // Refuse a list that would lock out the admin who sets it.
    if (request.body.cidrs.length > 0 && !createAddressFilter(request.body.cidrs).allows(request.ip)) {
      throw new AppError("conflict", "the list does not include your own address; you would lock yourself out");
    }
    await tenants.setIpAllowlist(granted.tenantId, request.body.cidrs);
    return { ipAllowlist: request.body.cidrs };
  });

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/api-keys", { ...guarded, schema: { params } }, async (request) => {
    const granted = await access(request, "manage_api_keys");
    return { apiKeys: await listApiKeys(deps.db, deps.vault, granted.tenantId) };
  });

  app.post<{ Params: TenantParams; Body: { name: string; scopes: ApiScope[]; expiresAt?: string } }>("/v1/tenants/:tenantId/api-keys", {
    ...guarded,
    schema: {
      params,
      body: body({
        name: { type: "string", minLength: 1, maxLength: 200 },
        scopes: { type: "array", minItems: 1, maxItems: 4, items: { type: "string", enum: apiScopes } },
        expiresAt: { type: "string", format: "date-time" },
      }, ["name", "scopes"]),
    },
  }, async (request, reply) => {
    const granted = await access(request, "manage_api_keys");
    const created = await createApiKey(deps.db, deps.vault, {
      tenantId: granted.tenantId,
      createdBy: granted.principal.kind === "user" ? granted.principal.userId : granted.principal.keyId,
      name: request.body.name,
      scopes: request.body.scopes,
      expiresAt: request.body.expiresAt ?? null,
    });
    // The only time the secret is ever shown.
    return reply.code(201).send({ id: created.id, key: created.key });
  });

  app.delete<{ Params: TenantParams & { keyId: string } }>("/v1/tenants/:tenantId/api-keys/:keyId", {
    ...guarded, schema: { params: { type: "object", properties: { tenantId: id, keyId: id }, required: ["tenantId", "keyId"] } },
  }, async (request) => {
    const granted = await access(request, "manage_api_keys");
    await revokeApiKey(deps.db, granted.tenantId, request.params.keyId);
    return { status: "revoked" };
  });

  app.get<{ Params: TenantParams }>("/v1/tenants/:tenantId/groups", { ...guarded, schema: { params } }, async (request) => {
    const granted = await access(request, "view_members");
    const groups = await deps.db.selectFrom("groups").selectAll().where("tenant_id", "=", granted.tenantId).limit(maxGroupsPerTenant).execute();
    return {
      groups: await Promise.all(groups.map(async (group) => ({
        id: group.id,
        name: await deps.vault.data.openString({ tenantId: granted.tenantId, objectType: "group", objectId: group.id, objectVersion: 1, field: "name" }, group.name_ciphertext),
        members: (await deps.db.selectFrom("group_members").select("user_id").where("tenant_id", "=", granted.tenantId).where("group_id", "=", group.id).execute()).map((row) => row.user_id),
      }))),
    };
  });

  app.post<{ Params: TenantParams; Body: { name: string } }>("/v1/tenants/:tenantId/groups", {
    ...guarded, schema: { params, body: body({ name: { type: "string", minLength: 1, maxLength: 200 } }, ["name"]) },
  }, async (request, reply) => {
    const granted = await access(request, "manage_groups");
    const count = await deps.db.selectFrom("groups").select((eb) => eb.fn.countAll<number>().as("count")).where("tenant_id", "=", granted.tenantId).executeTakeFirstOrThrow();
    if (Number(count.count) >= maxGroupsPerTenant) throw new AppError("conflict", `a company may have at most ${maxGroupsPerTenant} groups`);
    const groupId = newPublicId();
    await deps.db.insertInto("groups").values({
      tenant_id: granted.tenantId,
      id: groupId,
      name_ciphertext: await deps.vault.data.sealString({ tenantId: granted.tenantId, objectType: "group", objectId: groupId, objectVersion: 1, field: "name" }, request.body.name),
      created_at: new Date().toISOString(),
    }).execute();
    return reply.code(201).send({ id: groupId });
  });

  app.put<{ Params: TenantParams & { groupId: string; userId: string } }>("/v1/tenants/:tenantId/groups/:groupId/members/:userId", {
    ...guarded, schema: { params: { type: "object", properties: { tenantId: id, groupId: id, userId: id }, required: ["tenantId", "groupId", "userId"] } },
  }, async (request) => {
    const granted = await access(request, "manage_groups");
    const group = await deps.db.selectFrom("groups").select("id").where("tenant_id", "=", granted.tenantId).where("id", "=", request.params.groupId).executeTakeFirst();
    if (!group) throw new AppError("not_found", "no such group");
    await memberOrNotFound(granted.tenantId, request.params.userId);
    const existing = await deps.db.selectFrom("group_members").select("user_id").where("tenant_id", "=", granted.tenantId)
      .where("group_id", "=", group.id).where("user_id", "=", request.params.userId).executeTakeFirst();
    if (!existing) await deps.db.insertInto("group_members").values({ tenant_id: granted.tenantId, group_id: group.id, user_id: request.params.userId }).execute();
    return { status: "added" };
  });
}
