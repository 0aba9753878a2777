// GET /v1/dev/outbox: the dev outbox for the browser app, so that sign-in codes and links can be read
// on the machine that runs a dev installation. Registered only when the server unseals itself with
// the dev share. It answers only a caller on this machine that asks for a loopback host name (so
// neither another machine, a proxy in front, nor a DNS-rebound page gets in); anyone else is told
// there is no such route, exactly as for an unknown path.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { listOutbox, outboxCapacity, type OutboxDependencies } from "./outbox-sender.ts";

const defaultLimit = 50;
const loopbackAddresses = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"]);

// Both the TCP peer and the address Fastify settled on (which a trusted proxy can set) must be this
// machine: a proxy on the same host would otherwise make every visitor look local.
export function isLoopbackCaller(request: FastifyRequest): boolean {
  const peer = request.socket.remoteAddress;
  if (!peer || !loopbackAddresses.has(peer) || !loopbackAddresses.has(request.ip)) return false;
  const host = String(request.headers.host ?? "").toLowerCase();
  const name = /^(\[[0-9a-f:.]+\]|[^:]+)(:\d{1,5})?$/.exec(host)?.[1];
  return name !== undefined && loopbackHosts.has(name);
}

export function registerDevOutboxRoute(app: FastifyInstance, deps: OutboxDependencies): void {
  app.get<{ Querystring: { limit?: string } }>("/v1/dev/outbox", {
    // Before the query is validated, so that a bad query from elsewhere does not reveal the route.
    preValidation: async (request, reply) => {
      if (!isLoopbackCaller(request)) return reply.callNotFound();
    },
    schema: {
      hide: true,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { limit: { type: "string", pattern: "^[1-9][0-9]{0,3}$", description: `newest first, at most ${outboxCapacity}` } },
      },
    },
  }, async (request) => {
    const limit = Math.min(Number(request.query.limit ?? defaultLimit), outboxCapacity);
    const entries = await listOutbox(deps, limit);
    return { messages: entries.map((entry) => ({ id: entry.id, createdAt: entry.createdAt, ...entry.message })) };
  });
}
