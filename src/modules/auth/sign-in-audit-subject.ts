// Every step of a sign-in names, in the audit trail, the user it was for: the password step by the
// e-mail's blind index, the later steps by their challenge token. Users see these in their history.
import type { FastifyInstance } from "fastify";
import { emailIndexOf, normaliseEmail } from "../accounts/user-fields.ts";
import { addAuditDetails, setAuditSubject } from "../audit/audit-trail.ts";
import type { IdentityDeps } from "./identity-deps.ts";
import { tokenHash } from "./secret-tokens.ts";

export function registerSignInAuditSubject(app: FastifyInstance, deps: IdentityDeps): void {
  app.addHook("preHandler", async (request) => {
    if (request.method !== "POST" || !request.url.startsWith("/v1/auth/login")) return;
    const body = request.body as { email?: unknown; challengeToken?: unknown } | undefined;
    if (typeof body?.email === "string") {
      addAuditDetails(request, { email: deps.vault.mac("audit-value", normaliseEmail(body.email)) });
      const user = await deps.db.selectFrom("users").select("id").where("email_index", "=", emailIndexOf(deps.vault, body.email)).executeTakeFirst();
      if (user) setAuditSubject(request, user.id);
    } else if (typeof body?.challengeToken === "string" && body.challengeToken.length <= 200) {
      const challenge = await deps.db.selectFrom("login_challenges").select("user_id").where("token_hash", "=", tokenHash(deps.vault, body.challengeToken)).executeTakeFirst();
      if (challenge) setAuditSubject(request, challenge.user_id);
    }
  });
}
