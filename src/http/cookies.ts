// Reading and writing the two cookies: the session (browser session lifetime) and the known-device
// marker (long-lived). Both are __Host- prefixed: Secure, Path=/, no Domain, so no subdomain can set them.
import type { FastifyReply, FastifyRequest } from "fastify";

export const sessionCookieName = "__Host-sr_session";
export const deviceCookieName = "__Host-sr_device";
const deviceCookieDays = 400;

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  appendCookie(reply, `${sessionCookieName}=${token}; Path=/; Secure; HttpOnly; SameSite=Lax`);
}

export function clearSessionCookie(reply: FastifyReply): void {
  appendCookie(reply, `${sessionCookieName}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`);
}

export function setDeviceCookie(reply: FastifyReply, value: string): void {
  appendCookie(reply, `${deviceCookieName}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${deviceCookieDays * 86_400}`);
}

function appendCookie(reply: FastifyReply, cookie: string): void {
  const existing = reply.getHeader("set-cookie");
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header("set-cookie", [...list, cookie]);
}
