// A minimal HTTPS client for tests: trusts the given CA, lets the test set any header, and returns
// status, headers and body without throwing on 4xx/5xx.
import { request } from "node:https";
import type { IncomingHttpHeaders } from "node:http";

export type TestResponse = { status: number; headers: IncomingHttpHeaders; text: string; bytes: Buffer; json(): any };

export function httpsRequest(
  url: string,
  options: { ca?: string | Buffer; method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", ca: options.ca, headers: options.headers, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      // A response the server cuts off half-way ends without 'end': report it instead of waiting for ever.
      res.on("error", reject);
      res.on("close", () => {
        if (!res.complete) reject(new Error("the response was cut off"));
      });
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytes, json: () => JSON.parse(text) });
      });
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}

export function postJson(url: string, ca: string | Buffer, body: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
  return httpsRequest(url, { ca, method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}
