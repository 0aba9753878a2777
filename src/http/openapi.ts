// Serves /v1/openapi.json: an OpenAPI 3.1 description built from the routes as registered, with
// their JSON schemas, so the description cannot drift from what the server accepts.
import type { FastifyInstance, RouteOptions } from "fastify";

type Operation = { method: string; path: string; schema: RouteOptions["schema"] | undefined; secured: boolean };

export function collectRoutesForOpenApi(app: FastifyInstance): Operation[] {
  const operations: Operation[] = [];
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === "HEAD" || route.url === "/v1/openapi.json" || route.schema?.hide) continue;
      operations.push({ method: method.toLowerCase(), path: route.url, schema: route.schema, secured: Boolean(route.preHandler) });
    }
  });
  return operations;
}

export function registerOpenApiRoute(app: FastifyInstance, operations: Operation[], version: string): void {
  let document: unknown;
  app.get("/v1/openapi.json", async () => {
    document ??= buildDocument(operations, version);
    return document;
  });
}

export function buildDocument(operations: Operation[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const path = operation.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const schema = (operation.schema ?? {}) as { body?: unknown; params?: { properties?: Record<string, unknown> }; querystring?: { properties?: Record<string, unknown> }; response?: Record<string, unknown> };
    const parameters = [
      ...Object.entries(schema.params?.properties ?? {}).map(([name, value]) => ({ name, in: "path", required: true, schema: value })),
      ...Object.entries(schema.querystring?.properties ?? {}).map(([name, value]) => ({ name, in: "query", required: false, schema: value })),
    ];
    for (const match of path.matchAll(/\{([A-Za-z0-9_]+)\}/g)) {
      if (!parameters.some((parameter) => parameter.name === match[1])) parameters.push({ name: match[1]!, in: "path", required: true, schema: { type: "string" } });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, body] of Object.entries(schema.response ?? {})) responses[status] = { description: `HTTP ${status}`, content: { "application/json": { schema: body } } };
    responses["200"] ??= { description: "Success" };
    responses["4XX"] = { description: "Refused: `{ error, message }` with a stable error code", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    (paths[path] ??= {})[operation.method] = {
      operationId: `${operation.method}${path.replace(/[^A-Za-z0-9]+/g, "_")}`,
      tags: [path.split("/")[2] ?? "root"],
      ...(parameters.length ? { parameters } : {}),
      ...(schema.body ? { requestBody: { required: true, content: requestContentOf(schema.body) } } : {}),
      responses,
      ...(operation.secured ? { security: [{ session: [] }, { apiKey: [] }] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Strongroom API", version },
    paths,
    components: {
      schemas: {
        Error: { type: "object", required: ["error", "message"], properties: { error: { type: "string" }, message: { type: "string" } } },
      },
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "__Host-sr_session", description: "Writes also need the X-CSRF-Token header." },
        apiKey: { type: "http", scheme: "basic", description: "keyId:secret of a company API key" },
      },
    },
  };
}

// A body schema is JSON, or (Fastify's per-type form) `{ content: { "<type>": { schema } } }`.
function requestContentOf(body: unknown): Record<string, { schema: unknown }> {
  const perType = (body as { content?: Record<string, { schema?: unknown }> }).content;
  if (perType && typeof perType === "object" && Object.values(perType).every((entry) => typeof entry === "object" && entry !== null && "schema" in entry)) {
    return Object.fromEntries(Object.entries(perType).map(([type, entry]) => [type, { schema: entry.schema }]));
  }
  return { "application/json": { schema: body } };
}
