// OWASP secure headers on every HTTPS answer: HSTS (preload), a strict CSP, no sniffing, no framing,
// no referrer, and no caching of API answers.
import type { FastifyReply, FastifyRequest } from "fastify";

export const securityHeaders: Record<string, string> = {
  "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

export async function addSecurityHeaders(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  reply.headers(securityHeaders);
  if (request.url.startsWith("/v1/")) reply.header("cache-control", "no-store");
  return payload;
}
