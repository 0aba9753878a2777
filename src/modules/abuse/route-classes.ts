// Which limits a request falls under, decided from its method and route pattern (never the raw URL,
// so /v1/tenants/x and /v1/tenants/y are one route). Health probes are not limited, only banned.
export const routeClasses = ["login", "code", "pin", "api", "download", "default"] as const;
export type RouteClass = (typeof routeClasses)[number];

// Password sign-in: each attempt is checked against the account's throttle.
const loginRoutes = new Set(["POST /v1/auth/login", "POST /v1/sys/operator/login"]);
// Secrets typed in or pasted from a message: codes, one-time links, unseal shares, and the requests
// that make the server send such a message.
const codeRoutes = new Set([
  "POST /v1/auth/verify-email",
  "POST /v1/auth/signup",
  "POST /v1/auth/password-reset",
  "POST /v1/auth/password-reset/complete",
  "POST /v1/invitations/accept",
  "POST /v1/sys/unseal",
]);
const unlimitedRoutes = new Set(["GET /v1/sys/health", "HEAD /v1/sys/health", "GET /v1/sys/seal-status", "HEAD /v1/sys/seal-status"]);

export function classifyRoute(method: string, routeUrl: string | undefined, hasApiKey: boolean): RouteClass | "unlimited" {
  const route = `${method} ${routeUrl ?? ""}`;
  if (routeUrl === undefined) return hasApiKey ? "api" : "default";
  if (unlimitedRoutes.has(route)) return "unlimited";
  // Signing links: the signer types the PIN sent by a second channel.
  if (routeUrl.startsWith("/v1/sign/") || routeUrl === "/v1/shared/:token/unlock") return "pin";
  if (loginRoutes.has(route)) return "login";
  if (codeRoutes.has(route) || (method === "POST" && routeUrl.startsWith("/v1/auth/login/"))) return "code";
  if ((method === "GET" || method === "HEAD") && /\/(download|content|final-pdf|export)$/.test(routeUrl)) return "download";
  // Bulk transfers in the other direction: a PDF of up to 100 MB hashed for verification, a company export.
  if (route === "POST /v1/verify" || route === "POST /v1/tenants/:tenantId/export") return "download";
  return hasApiKey ? "api" : "default";
}

export function carriesApiKey(authorization: string | undefined): boolean {
  return typeof authorization === "string" && /^Basic /i.test(authorization);
}
