// Uploads and crashes, against the real server process (dev default: SQLite and files under the data
// directory): an upload answered 201 survives kill -9; an upload cut off by the client or by kill -9
// leaves no visible version and, after start-up cleanup, no blob.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { WebClient } from "../support/web-client.ts";

const person = { email: "kim@crash.example", password: "kim survives every crash 9", name: "Kim", companyName: "Crash Co" };

describe("uploads across client disconnects and kill -9 (real server process)", () => {
  let dataDir: string;
  let server: ServerProcess;
  let ca: Buffer;
  let client: WebClient;
  let tenantId: string;
  let documentId: string;
  const committed = randomBytes(1024 * 1024 + 17);
  const env = () => ({ STRONGROOM_DATA_DIR: dataDir, STRONGROOM_LOG_LEVEL: "info" });
  const base = () => `https://localhost:${server.httpsPort}`;

  async function outbox(): Promise<{ to: string; text: string }[]> {
    const response = await new WebClient(base(), ca).get("/v1/dev/outbox?limit=20");
    assert.equal(response.status, 200, response.text);
    return response.json().messages;
  }

  async function blobFiles(): Promise<string[]> {
    const dir = join(dataDir, "blobs");
    const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  }

  async function restart(signal: NodeJS.Signals): Promise<void> {
    server.child.kill(signal);
    await once(server.child, "exit");
    server = await startServerProcess([], env());
    client = new WebClient(base(), ca, {});
    await signIn();
  }

  async function signIn(): Promise<void> {
    const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
    assert.equal(login.status, 202, login.text);
    const code = /code is (\d{6})/.exec((await outbox()).find((message) => message.text.includes("sign-in code"))!.text)![1]!;
    assert.equal((await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code })).status, 200);
  }

  // Sends part of an upload, then stops (the client goes away, or the server is killed meanwhile).
  function partialUpload(bytesBeforeStop: number, onPartSent: () => void | Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const req = request(`${base()}/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=1`, {
        method: "PUT", ca,
        headers: {
          "content-type": "application/octet-stream", "content-length": String(bytesBeforeStop * 4), "x-content-type": "application/pdf",
          cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join("; "), "x-csrf-token": client.csrfToken!,
        },
      });
      req.on("error", () => resolve());
      req.on("response", (res) => { res.resume(); resolve(); });
      req.write(randomBytes(bytesBeforeStop), async () => {
        await new Promise((r) => setTimeout(r, 300));
        await onPartSent();
        req.destroy();
        resolve();
      });
    });
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sr-crash-"));
    server = await startServerProcess([], env());
    ca = await readFile(join(dataDir, "tls", "localhost-cert.pem"));
    client = new WebClient(base(), ca);
    await client.post("/v1/auth/signup", person);
    const token = /#token=([\w-]+)/.exec((await outbox()).find((message) => message.text.includes("verify-email"))!.text)![1]!;
    assert.equal((await client.post("/v1/auth/verify-email", { token })).status, 200);
    await signIn();
    tenantId = (await client.get("/v1/auth/session")).json().tenants[0].id;
    documentId = (await client.post(`/v1/tenants/${tenantId}/documents`, { title: "Survivor" })).json().id;
  });

  after(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("an upload answered 201 survives kill -9 of the server", async () => {
    const stored = await client.request("PUT", `/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=0`, committed, { "x-content-type": "application/pdf" });
    assert.equal(stored.status, 201, stored.text);
    await restart("SIGKILL");
    const back = await client.get(`/v1/tenants/${tenantId}/documents/${documentId}/content`);
    assert.equal(back.status, 200);
    assert.ok(back.bytes.equals(committed), "byte-identical after kill -9");
    assert.equal((await blobFiles()).length, 1);
  });

  it("an upload the client abandons halfway leaves no version and no blob", async () => {
    await partialUpload(3 * 1024 * 1024, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const meta = (await client.get(`/v1/tenants/${tenantId}/documents/${documentId}`)).json();
    assert.equal(meta.version, 1);
    assert.equal((await client.get(`/v1/tenants/${tenantId}/documents/${documentId}/versions`)).json().versions.length, 1);
    assert.equal((await blobFiles()).length, 1, "no orphan blob");
  });

  it("an upload cut off by kill -9 leaves no visible version, and start-up removes its leftovers", async () => {
    await partialUpload(3 * 1024 * 1024, () => { server.child.kill("SIGKILL"); });
    await once(server.child, "exit").catch(() => undefined);
    server = await startServerProcess([], env());
    client = new WebClient(base(), ca);
    await signIn();
    const meta = (await client.get(`/v1/tenants/${tenantId}/documents/${documentId}`)).json();
    assert.equal(meta.version, 1);
    assert.equal((await client.get(`/v1/tenants/${tenantId}/documents/${documentId}/versions`)).json().versions.length, 1);
    assert.deepEqual((await blobFiles()).length, 1, "no orphan blob or temp file after start-up cleanup");
    assert.ok((await client.get(`/v1/tenants/${tenantId}/documents/${documentId}/content`)).bytes.equals(committed));
  });
});
