// /v1/sys/operator…: operators sign in (username, password, TOTP code), see who they are, sign out.
// Every route answers only from the operator CIDRs; none of them reaches company content.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { logInOperator } from "./log-in-operator.ts";
import { clearOperatorCookie, operatorCsrfToken, operatorOf, setOperatorCookie, type OperatorAccess } from "./operator-access.ts";
import type { OperatorDeps } from "./operator-deps.ts";
import type { OperatorSessionRow } from "./operator-sessions.ts";

const loginBody = {
  type: "object",
  additionalProperties: false,
  required: ["username", "password", "code"],
  properties: {
    username: { type: "string", minLength: 1, maxLength: 64 },
    password: { type: "string", minLength: 1, maxLength: 1024 },
    code: { type: "string", minLength: 1, maxLength: 12 },
  },
} as const;

export async function registerOperatorRoutes(app: FastifyInstance, deps: OperatorDeps, access: OperatorAccess): Promise<void> {
  const presentSession = (session: OperatorSessionRow) => ({
    id: session.id,
    createdAt: session.created_at,
    idleExpiresAt: session.idle_expires_at,
    absoluteExpiresAt: session.absolute_expires_at,
  });

  app.post<{ Body: { username: string; password: string; code: string } }>(
    "/v1/sys/operator/login",
    // Checked once the audit record is begun, so refused outsiders are on the trail too.
    { preValidation: access.requireOperatorAddress, schema: { body: loginBody } },
    async (request: FastifyRequest<{ Body: { username: string; password: string; code: string } }>, reply) => {
      const client = { ip: request.ip, userAgent: String(request.headers["user-agent"] ?? "unknown").slice(0, 512) };
      let signIn;
      try {
        signIn = await logInOperator(deps, request.body, client);
      } catch (error) {
        request.log.warn({ event: "operator_login_failed" }, "operator sign-in refused");
        throw error;
      }
      request.log.warn({ event: "operator_signed_in", operatorId: signIn.operator.id }, "operator signed in");
      setOperatorCookie(reply, signIn.token);
      return {
        status: "signed_in",
        operator: { id: signIn.operator.id, username: signIn.operator.username },
        session: presentSession(signIn.session),
        csrfToken: operatorCsrfToken(deps.vault, signIn.session.id),
      };
    },
  );

  app.post("/v1/sys/operator/logout", { preHandler: access.requireOperatorSession }, async (request, reply) => {
    const { session, operator } = operatorOf(request);
    await deps.sessions.revoke(session.id);
    request.log.info({ event: "operator_signed_out", operatorId: operator.id }, "operator signed out");
    clearOperatorCookie(reply);
    return { status: "signed_out" };
  });

  app.get("/v1/sys/operators/me", { preHandler: access.requireOperatorSession }, async (request) => {
    const { session, operator } = operatorOf(request);
    return {
      operator: { id: operator.id, username: operator.username, createdAt: operator.createdAt },
      session: presentSession(session),
      csrfToken: operatorCsrfToken(deps.vault, session.id),
    };
  });
}
