// Serves the built browser app (web/dist) under the same security headers as the API: hashed assets
// cached for a year, index.html never cached, and any other non-API GET answered with index.html so
// the app's own router can show the page. Only files found in distDir at start-up can be served.
import { lstat, readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors/app-error.ts";

export type WebAppOptions = { distDir: string };

/** Where `npm run build:web` (run by `npm install`) puts the app: web/dist in the package. */
export const defaultWebDistDir = fileURLToPath(new URL("../../web/dist", import.meta.url));

declare module "fastify" {
  interface FastifySchema {
    /** Not part of the JSON API: left out of the OpenAPI description. */
    hide?: boolean;
  }
}

type WebFile = { body: Buffer; gzipped: Buffer | undefined; contentType: string; cacheControl: string };

const maxFiles = 2000;
const maxTotalBytes = 50 * 1024 * 1024;
const hashedAssetPrefix = "/assets/";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};
const compressible = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".webmanifest", ".txt", ".svg"]);

export async function registerWebApp(app: FastifyInstance, options: WebAppOptions): Promise<void> {
  const files = await loadWebFiles(options.distDir);
  const index = files.get("/index.html");
  if (!index) app.log.warn({ event: "web_app_missing", distDir: options.distDir }, "the web app is not built: run `npm run build:web`");

  app.get("/*", { schema: { hide: true } }, async (request, reply) => {
    const path = `/${(request.params as { "*"?: string })["*"] ?? ""}`;
    if (path.startsWith("/v1/") || path === "/v1") return reply.callNotFound();
    const file = files.get(path) ?? (isAppRoute(path) ? index : undefined);
    if (!file) {
      if (!index && isAppRoute(path)) {
        return reply.code(503).type("text/plain; charset=utf-8").header("cache-control", "no-store")
          .send("The web app is not built on this server: run `npm run build:web`.\n");
      }
      return reply.callNotFound();
    }
    return sendFile(request, reply, file);
  });
}

// A path the browser app routes itself: not an asset, and with no file extension.
function isAppRoute(path: string): boolean {
  if (path.startsWith(hashedAssetPrefix)) return false;
  const lastSegment = path.slice(path.lastIndexOf("/") + 1);
  return !lastSegment.includes(".");
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: WebFile): FastifyReply {
  reply.type(file.contentType).header("cache-control", file.cacheControl);
  if (file.gzipped) {
    reply.header("vary", "accept-encoding");
    if (acceptsGzip(request.headers["accept-encoding"])) return reply.header("content-encoding", "gzip").send(file.gzipped);
  }
  return reply.send(file.body);
}

function acceptsGzip(header: string | undefined): boolean {
  if (!header || header.length > 1024) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    const refused = params.some((param) => /^\s*q=0(\.0*)?\s*$/.test(param));
    return (coding === "gzip" || coding === "*") && !refused;
  });
}

// Reads every regular file under distDir once. Symbolic links are skipped, so nothing outside the
// directory can be served, and a request path can only ever name one of these files.
export async function loadWebFiles(distDir: string): Promise<Map<string, WebFile>> {
  const files = new Map<string, WebFile>();
  const entries = await readdir(distDir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  let totalBytes = 0;
  for (const entry of entries) {
    const full = join(entry.parentPath, entry.name);
    const stats = await lstat(full);
    if (!stats.isFile()) continue;
    const path = `/${relative(distDir, full).split(sep).join("/")}`;
    if (path.includes("/../") || files.size >= maxFiles || (totalBytes += stats.size) > maxTotalBytes) {
      throw new AppError("config_invalid", `the web app directory ${distDir} holds more than ${maxFiles} files or ${maxTotalBytes} bytes: is it the build output?`);
    }
    const extension = extname(path).toLowerCase();
    const body = await readFile(full);
    const gzipped = compressible.has(extension) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined;
    files.set(path, {
      body,
      gzipped: gzipped && gzipped.length < body.length ? gzipped : undefined,
      contentType: contentTypes[extension] ?? "application/octet-stream",
      cacheControl: cacheControlFor(path),
    });
  }
  return files;
}

function cacheControlFor(path: string): string {
  // Vite names everything under assets/ by content hash: a changed file gets a new name.
  if (path.startsWith(hashedAssetPrefix)) return "public, max-age=31536000, immutable";
  if (path.endsWith(".html")) return "no-store";
  return "no-cache";
}
