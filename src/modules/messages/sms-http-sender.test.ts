import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { after, before, describe, it } from "node:test";
import { createSelfSignedCertificate } from "../../vault/self-signed-certificate.ts";
import type { Message } from "./message.ts";
import { messagesConfigSchema, type SmsHttpConfig } from "./messages-config.ts";
import { createSmsHttpSender } from "./sms-http-sender.ts";

type Request = { method: string | undefined; path: string | undefined; headers: IncomingMessage["headers"]; body: string };

const token = "sms-token-5d1c9e";
const message: Message = { channel: "sms", to: "+41791234567", subject: "", text: "Strongroom code 730146 (sr-marker-sms)", purpose: "device_code" };

function smsConfig(overrides: Record<string, unknown>): SmsHttpConfig {
  const parsed = messagesConfigSchema.parse({ sms: { kind: "http", token, ...overrides } });
  assert.equal(parsed.sms.kind, "http");
  return parsed.sms as SmsHttpConfig;
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  assert.fail("expected a rejection");
}

describe("SMS HTTP sender", () => {
  const requests: Request[] = [];
  let answer: (request: Request, response: ServerResponse) => void = (_request, response) => response.writeHead(202).end('{"id":"m1"}');
  let server: ReturnType<typeof createServer>;
  let base: string;
  let certificatePem: string;

  before(async () => {
    const certificate = await createSelfSignedCertificate(["localhost", "127.0.0.1"]);
    certificatePem = certificate.certificatePem;
    server = createServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const received = { method: request.method, path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString("utf8") };
        requests.push(received);
        answer(received, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("refuses a provider whose certificate is not trusted, and sends nothing", async () => {
    const error = await rejectionOf(createSmsHttpSender(smsConfig({ url: `${base}/v1/sms` })).send(message));
    assert.equal(error.code, "delivery_failed");
    assert.match(error.message, /TLS failed: the provider's certificate is not trusted/);
    assert.equal(requests.length, 0);
    // From here on the test's certificate is trusted like a system CA (as NODE_EXTRA_CA_CERTS would do).
    setDefaultCACertificates([...getCACertificates("default"), certificatePem]);
  });

  it("posts the message as JSON with the bearer token", async () => {
    await createSmsHttpSender(smsConfig({ url: `${base}/v1/sms?account=a1`, from: "Strongroom" })).send(message);
    const request = requests.at(-1)!;
    assert.deepEqual([request.method, request.path], ["POST", "/v1/sms?account=a1"]);
    assert.equal(request.headers.authorization, `Bearer ${token}`);
    assert.equal(request.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(request.body), { to: "+41791234567", from: "Strongroom", text: message.text });
  });

  it("leaves out the sender when none is configured", async () => {
    await createSmsHttpSender(smsConfig({ url: `${base}/v1/sms` })).send(message);
    assert.deepEqual(JSON.parse(requests.at(-1)!.body), { to: "+41791234567", text: message.text });
  });

  it("fails clearly on a 500, without echoing the token or the text", async () => {
    answer = (_request, response) => response.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: `bad ${message.text}` }));
    try {
      const error = await rejectionOf(createSmsHttpSender(smsConfig({ url: `${base}/v1/sms` })).send(message));
      assert.equal(error.code, "delivery_failed");
      assert.equal(error.message, `could not send the device_code SMS through ${base}: the provider answered HTTP 500`);
      assert.doesNotMatch(error.message, /730146|sms-token|\+41/);
    } finally {
      answer = (_request, response) => response.writeHead(202).end();
    }
  });

  it("does not follow a redirect (it would carry the token elsewhere)", async () => {
    answer = (request, response) =>
      request.path === "/moved" ? response.writeHead(202).end() : response.writeHead(307, { location: "/moved" }).end();
    try {
      const before = requests.length;
      await assert.rejects(createSmsHttpSender(smsConfig({ url: `${base}/v1/sms` })).send(message), {
        code: "delivery_failed",
        message: /answered with a redirect, which is not followed/,
      });
      assert.deepEqual(requests.slice(before).map((request) => request.path), ["/v1/sms"]);
    } finally {
      answer = (_request, response) => response.writeHead(202).end();
    }
  });

  it("gives up when the provider does not answer in time", async () => {
    answer = () => {};
    try {
      const sender = createSmsHttpSender(smsConfig({ url: `${base}/v1/sms` }), { timeoutMs: 300 });
      await assert.rejects(sender.send(message), { code: "delivery_failed", message: /did not answer in time/ });
    } finally {
      answer = (_request, response) => response.writeHead(202).end();
    }
  });

  it("names a refused connection", async () => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(createSmsHttpSender(smsConfig({ url: `https://127.0.0.1:${port}/v1/sms` })).send(message), {
      code: "delivery_failed",
      message: /the connection was refused/,
    });
  });

  it("refuses a recipient that is not an E.164 number before calling the provider", async () => {
    const before = requests.length;
    await assert.rejects(createSmsHttpSender(smsConfig({ url: `${base}/v1/sms` })).send({ ...message, to: "079 123 45 67" }), { code: "bad_request" });
    assert.equal(requests.length, before);
  });

  it("accepts only an https:// provider URL in configuration", () => {
    const parsed = messagesConfigSchema.safeParse({ sms: { kind: "http", url: "http://sms.example.test/v1", token } });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues.map((issue) => issue.path.join(".")), ["sms.url"]);
  });
});
