// A real HTTPS SMS gateway stand-in for tests: it accepts the provider-neutral JSON POST that the SMS
// adapter sends, checks the bearer token, and keeps every message. The process trusts its certificate.
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { createSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";

export type SmsGateway = { url: string; token: string; received: { to: string; text: string }[]; close(): Promise<void> };

// Every gateway's certificate stays trusted: setting the defaults replaces them, so keep them all.
// Start gateways before the first fetch in a process: fetch fixes its CA list on first use.
const trusted: string[] = [];

export async function startSmsGateway(): Promise<SmsGateway> {
  const certificate = await createSelfSignedCertificate(["localhost", "127.0.0.1"]);
  trusted.push(certificate.certificatePem);
  setDefaultCACertificates([...getCACertificates("default"), ...trusted]);
  const token = "gateway-token-for-tests";
  const received: { to: string; text: string }[] = [];
  const server = createServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.headers.authorization !== `Bearer ${token}`) {
        response.writeHead(401).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { to: string; text: string };
      received.push({ to: body.to, text: body.text });
      response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://localhost:${(server.address() as AddressInfo).port}/messages`,
    token,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
