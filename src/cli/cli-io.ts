// What every command shares: usage errors with exit code 2, reading secrets from stdin or a prompt,
// and a small HTTPS client for the running server (trusting the dev certificate for localhost).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Config } from "../config/config.ts";

export class UsageError extends Error {}

export type Output = { out(text: string): void; err(text: string): void };

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export function positiveInteger(value: string | undefined, flag: string): number {
  if (value === undefined) throw new UsageError(`missing ${flag}`);
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) throw new UsageError(`${flag} must be a positive whole number`);
  return number;
}

// Reads lines from stdin; on a terminal it prompts and does not echo (shares are secrets).
export async function readSecretLines(count: number, prompt: string): Promise<string[]> {
  const lines = process.stdin.isTTY ? await promptHidden(count, prompt) : await readPipedLines(count);
  if (lines.length < count) throw new UsageError(`expected ${count} share(s) on standard input, got ${lines.length}`);
  return lines;
}

async function readPipedLines(count: number): Promise<string[]> {
  const lines: string[] = [];
  const reader = createInterface({ input: process.stdin, terminal: false });
  for await (const line of reader) {
    if (line.trim()) lines.push(line.trim());
    if (lines.length === count) break;
  }
  reader.close();
  return lines;
}

async function promptHidden(count: number, prompt: string): Promise<string[]> {
  const reader = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const muted = reader as unknown as { _writeToOutput: (text: string) => void };
  let echo = true;
  muted._writeToOutput = (text: string) => {
    if (echo) process.stderr.write(text);
  };
  const lines: string[] = [];
  try {
    while (lines.length < count) {
      echo = true;
      const answer = await new Promise<string | undefined>((resolve) => {
        reader.once("close", () => resolve(undefined));
        reader.question(`${prompt} ${lines.length + 1}/${count}: `, resolve);
        echo = false;
      });
      process.stderr.write("\n");
      if (answer === undefined) break;
      if (answer.trim()) lines.push(answer.trim());
    }
  } finally {
    reader.close();
  }
  return lines;
}

export type ServerTarget = { url: URL; ca: Buffer | undefined };

export function serverTarget(config: Config, serverFlag: string | undefined, caFlag: string | undefined): ServerTarget {
  const url = new URL(serverFlag ?? `https://localhost:${config.server.port}`);
  if (url.protocol !== "https:") throw new UsageError("--server must be an https:// URL");
  const devCertificate = join(config.dataDir, "tls", "localhost-cert.pem");
  const caFile = caFlag ?? (config.tls.certFile ? config.tls.certFile : existsSync(devCertificate) ? devCertificate : undefined);
  return { url, ca: caFile ? readFileSync(caFile) : undefined };
}

export async function callServer(target: ServerTarget, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const { request } = await import("node:https"); // loading TLS costs every other command ~20 ms
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, target.url),
      {
        method,
        ca: target.ca,
        minVersion: "TLSv1.2",
        headers: payload ? { "content-type": "application/json", "content-length": payload.length } : {},
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
          } catch {
            json = {};
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("the server did not answer in 30 s")));
    req.on("error", reject);
    req.end(payload);
  });
}
