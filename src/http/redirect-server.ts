// The plain-HTTP port does one thing: a permanent redirect to the same path over HTTPS.
import { createServer, type Server } from "node:http";

const hostPattern = /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i;

export function createRedirectServer(httpsPort: number, publicUrl: string | undefined): Server {
  return createServer((request, response) => {
    const target = redirectTarget(request.headers.host, request.url ?? "/", httpsPort, publicUrl);
    if (!target) {
      response.writeHead(400, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "bad_request", message: "missing or invalid Host header; use HTTPS" }));
      return;
    }
    response.writeHead(308, { location: target, "content-type": "text/plain", connection: "close" });
    response.end("Use HTTPS.\n");
  });
}

export function redirectTarget(hostHeader: string | undefined, path: string, httpsPort: number, publicUrl: string | undefined): string | undefined {
  const safePath = path.startsWith("/") && !path.startsWith("//") ? path : "/";
  if (publicUrl) return new URL(safePath, publicUrl).toString();
  const hostname = hostHeader?.replace(/:\d+$/, "");
  if (!hostname || !hostPattern.test(hostname)) return undefined;
  return `https://${hostname}${httpsPort === 443 ? "" : `:${httpsPort}`}${safePath}`;
}
