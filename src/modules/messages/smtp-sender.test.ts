import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SMTPServer } from "smtp-server";
import { createSelfSignedCertificate } from "../../vault/self-signed-certificate.ts";
import { maxAttachmentBytes, type Message } from "./message.ts";
import { messagesConfigSchema, type SmtpConfig } from "./messages-config.ts";
import { createSmtpSender } from "./smtp-sender.ts";

type Received = { from: string; to: string[]; user: string | undefined; secure: boolean; raw: string };

type TestRelay = { port: number; received: Received[]; close(): Promise<void> };

const marker = "code 482913 for sr-marker-7f3a";
const message: Message = {
  channel: "email",
  to: "alice@example.test",
  subject: "Your Strongroom sign-in code",
  text: `Hello Alice,\n\nyour ${marker} — valid for 10 minutes.\n`,
  purpose: "device_code",
};

async function startRelay(certificate: { certificatePem: string; privateKeyPem: string }, options: { starttls?: boolean; implicitTls?: boolean }): Promise<TestRelay> {
  const received: Received[] = [];
  const server = new SMTPServer({
    secure: options.implicitTls === true,
    key: certificate.privateKeyPem,
    cert: certificate.certificatePem,
    disabledCommands: options.starttls === false ? ["STARTTLS"] : [],
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === "mailer" && auth.password === "relay-password") callback(null, { user: auth.username });
      else callback(new Error("invalid credentials"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((address) => address.address),
          user: session.user,
          secure: session.secure,
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// Enough MIME to find the text: headers, a blank line, a 7bit, quoted-printable or base64 body.
function bodyText(raw: string): { headers: string; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const headers = raw.slice(0, split);
  const body = raw.slice(split + 4);
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (encoding === "base64") return { headers, text: Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8") };
  if (encoding !== "quoted-printable") return { headers, text: body };
  const bytes = body
    .replace(/=\r\n/g, "")
    .replace(/(=[0-9A-F]{2})+/gi, (run) => Buffer.from(run.replace(/=/g, ""), "hex").toString("latin1"));
  return { headers, text: Buffer.from(bytes, "latin1").toString("utf8") };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  assert.fail("expected a rejection");
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function smtpConfig(overrides: Record<string, unknown>): SmtpConfig {
  const parsed = messagesConfigSchema.parse({ email: { kind: "smtp", host: "127.0.0.1", from: "Strongroom <no-reply@strongroom.test>", ...overrides } });
  assert.equal(parsed.email.kind, "smtp");
  return parsed.email as SmtpConfig;
}

describe("SMTP sender", () => {
  let directory: string;
  let caFile: string;
  let relay: TestRelay;
  let plainRelay: TestRelay;
  let certificate: { certificatePem: string; privateKeyPem: string };

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "sr-smtp-"));
    certificate = await createSelfSignedCertificate(["localhost", "127.0.0.1"]);
    caFile = join(directory, "relay-ca.pem");
    await writeFile(caFile, certificate.certificatePem);
    relay = await startRelay(certificate, { starttls: true });
    plainRelay = await startRelay(certificate, { starttls: false });
  });
  after(async () => {
    await relay.close();
    await plainRelay.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("delivers over STARTTLS with authentication, trusting the configured CA", async () => {
    const sender = createSmtpSender(smtpConfig({ port: relay.port, user: "mailer", password: "relay-password", caFile }));
    await sender.send(message);
    assert.equal(relay.received.length, 1);
    const arrived = relay.received[0]!;
    assert.deepEqual([arrived.secure, arrived.user, arrived.from, arrived.to], [true, "mailer", "no-reply@strongroom.test", ["alice@example.test"]]);
    const { headers, text } = bodyText(arrived.raw);
    assert.match(headers, /^Subject: Your Strongroom sign-in code$/m);
    assert.match(headers, /^To: alice@example\.test$/m);
    assert.equal(text.replace(/\r\n/g, "\n").trimEnd(), message.text.trimEnd());
  });

  it("attaches files (a signed PDF) and refuses attachments over the size cap before connecting", async () => {
    const sender = createSmtpSender(smtpConfig({ port: relay.port, user: "mailer", password: "relay-password", caFile }));
    const before = relay.received.length;
    const pdf = Buffer.from("%PDF-1.7\nsigned contract\n%%EOF\n");
    await sender.send({ ...message, purpose: "signing_completed", attachments: [{ filename: "contract (signed).pdf", contentType: "application/pdf", content: pdf }] });
    const raw = relay.received[before]!.raw;
    const attached = /name="contract \(signed\)\.pdf"[\s\S]*?\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(raw)?.[1] ?? assert.fail("no attachment");
    assert.ok(Buffer.from(attached.replace(/\r\n/g, ""), "base64").equals(pdf));
    const tooLarge = await rejectionOf(sender.send({ ...message, attachments: [{ filename: "big.pdf", contentType: "application/pdf", content: Buffer.alloc(maxAttachmentBytes + 1) }] }));
    assert.equal(tooLarge.code, "payload_too_large");
    assert.equal(relay.received.length, before + 1, "nothing was sent for the refused message");
  });

  it("delivers over implicit TLS (secure)", async () => {
    const tlsRelay = await startRelay(certificate, { implicitTls: true });
    try {
      await createSmtpSender(smtpConfig({ port: tlsRelay.port, secure: true, user: "mailer", password: "relay-password", caFile })).send(message);
      assert.deepEqual(tlsRelay.received.map((arrived) => [arrived.secure, arrived.to]), [[true, ["alice@example.test"]]]);
    } finally {
      await tlsRelay.close();
    }
  });

  it("refuses a relay whose certificate is not trusted, and sends nothing", async () => {
    const before = relay.received.length;
    const sender = createSmtpSender(smtpConfig({ port: relay.port, user: "mailer", password: "relay-password" }), { timeoutMs: 5000 });
    const error = await rejectionOf(sender.send(message));
    assert.equal(error.code, "delivery_failed");
    assert.match(error.message, /TLS failed: the relay's certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    assert.equal(relay.received.length, before);
  });

  it("refuses a relay that does not offer STARTTLS when TLS is required", async () => {
    const sender = createSmtpSender(smtpConfig({ port: plainRelay.port, caFile }), { timeoutMs: 5000 });
    await assert.rejects(sender.send(message), { code: "delivery_failed", message: /does not offer STARTTLS/ });
    assert.equal(plainRelay.received.length, 0);
  });

  it("names a wrong password as an authentication failure", async () => {
    const sender = createSmtpSender(smtpConfig({ port: relay.port, user: "mailer", password: "wrong", caFile }), { timeoutMs: 5000 });
    await assert.rejects(sender.send(message), { code: "delivery_failed", message: /authentication failed \(SMTP reply 535\)/ });
  });

  it("gives a clear error when the relay refuses the connection, without the message text", async () => {
    const port = await closedPort();
    const sender = createSmtpSender(smtpConfig({ port, caFile }), { timeoutMs: 5000 });
    const error = await rejectionOf(sender.send(message));
    assert.equal(error.code, "delivery_failed");
    assert.equal(error.message, `could not send the device_code e-mail through the SMTP relay 127.0.0.1:${port}: the connection was refused`);
    assert.doesNotMatch(error.message, /482913|alice/);
  });

  it("gives a clear error when the relay does not answer in time", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const sender = createSmtpSender(smtpConfig({ port, caFile }), { timeoutMs: 300 });
      await assert.rejects(sender.send(message), { code: "delivery_failed", message: /did not answer in time/ });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("refuses an unreadable CA file at creation, naming the setting", () => {
    assert.throws(() => createSmtpSender(smtpConfig({ port: 25, caFile: join(directory, "missing.pem") })), {
      code: "config_invalid",
      message: /messages\.email\.caFile/,
    });
  });
});
