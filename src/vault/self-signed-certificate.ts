// Makes the dev default's TLS identity: an ECDSA P-256 key and a self-signed certificate for
// localhost, written once into the data directory (key file mode 0600) and reused after.
import { webcrypto } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type CertificateFiles = { certFile: string; keyFile: string };

const validityDays = 397;

export async function ensureSelfSignedCertificate(directory: string): Promise<CertificateFiles> {
  const files = { certFile: join(directory, "localhost-cert.pem"), keyFile: join(directory, "localhost-key.pem") };
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const { certificatePem, privateKeyPem } = await createSelfSignedCertificate(["localhost", "127.0.0.1", "::1"]);
  writeFileSync(files.keyFile, privateKeyPem, { mode: 0o600 });
  writeFileSync(files.certFile, certificatePem, { mode: 0o644 });
  return files;
}

export async function createSelfSignedCertificate(names: string[]): Promise<{ certificatePem: string; privateKeyPem: string }> {
  // @peculiar/x509 and its ASN.1 stack (~200 modules, ~10 MB) load only when a certificate is made.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "7"),
      name: "CN=localhost, O=Strongroom development",
      notBefore,
      notAfter: new Date(notBefore.getTime() + validityDays * 86_400_000),
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          names.map((name) => (/^[\d.:]+$/.test(name) ? { type: "ip" as const, value: name } : { type: "dns" as const, value: name })),
        ),
      ],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
  return { certificatePem: certificate.toString("pem"), privateKeyPem };
}
