// A tiny cookie-keeping HTTPS client for API tests: one instance is one browser (its own cookie jar),
// sending the CSRF token it was given on writes, and remembering every response body it saw.
import { httpsRequest, type TestResponse } from "./https-request.ts";

export class WebClient {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;
  readonly bodies: string[] = [];
  readonly base: string;
  readonly ca: Buffer;
  readonly headers: Record<string, string>;

  constructor(base: string, ca: Buffer, headers: Record<string, string> = {}) {
    this.base = base;
    this.ca = ca;
    this.headers = headers;
  }

  async request(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<TestResponse> {
    const raw = Buffer.isBuffer(body);
    const headers: Record<string, string> = { "user-agent": "strongroom-test/1.0", ...this.headers, ...extraHeaders };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    if (body !== undefined) headers["content-type"] ??= raw ? "application/octet-stream" : "application/json";
    if (this.csrfToken && method !== "GET" && !("x-csrf-token" in headers)) headers["x-csrf-token"] = this.csrfToken;
    const payload = body === undefined ? undefined : raw ? (body as Buffer) : JSON.stringify(body);
    const response = await httpsRequest(`${this.base}${path}`, { ca: this.ca, method, headers, body: payload });
    const setCookie = response.headers["set-cookie"] ?? [];
    for (const cookie of setCookie) {
      const [pair] = cookie.split(";");
      const index = pair!.indexOf("=");
      const name = pair!.slice(0, index);
      const value = pair!.slice(index + 1);
      if (/Max-Age=0/i.test(cookie) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    if (!response.headers["content-type"]?.startsWith("application/octet-stream") && !response.headers["content-type"]?.startsWith("application/pdf")) this.bodies.push(response.text);
    if (response.headers["content-type"]?.startsWith("application/json")) {
      const json = response.json() as { csrfToken?: string };
      if (json.csrfToken) this.csrfToken = json.csrfToken;
    }
    return response;
  }

  get(path: string) {
    return this.request("GET", path);
  }

  post(path: string, body: unknown = {}) {
    return this.request("POST", path, body);
  }
}
