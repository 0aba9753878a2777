// TLS policy (Mozilla "intermediate" without DHE): TLS 1.2 and 1.3 only, ECDHE key exchange with AEAD
// suites only. Certificate and key files are re-read when they change, without a restart.
import { readFileSync, watch, type FSWatcher } from "node:fs";
import type { SecureContextOptions, Server as TlsServer } from "node:tls";
import type { Logger } from "../log/logger.ts";

const tls12Ciphers = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

const tls13Ciphersuites = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"].join(":");

export type CertificateSource = { certFile: string; keyFile: string };

export function tlsPolicy(): SecureContextOptions {
  return {
    minVersion: "TLSv1.2",
    maxVersion: "TLSv1.3",
    ciphers: `${tls12Ciphers}:${tls13Ciphersuites}`,
    ecdhCurve: "X25519:prime256v1:secp384r1",
    honorCipherOrder: false,
  };
}

export function readCertificate(source: CertificateSource): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(source.certFile), key: readFileSync(source.keyFile) };
}

export function tlsServerOptions(source: CertificateSource): SecureContextOptions {
  return { ...tlsPolicy(), ...readCertificate(source) };
}

// Operators renew certificates in place (certbot, cert-manager); a bad new pair keeps the old one.
export function reloadCertificateOnChange(server: TlsServer, source: CertificateSource, log: Logger): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        server.setSecureContext({ ...tlsPolicy(), ...readCertificate(source) });
        log.info({ certFile: source.certFile }, "TLS certificate reloaded");
      } catch (error) {
        log.error({ err: error, certFile: source.certFile }, "TLS certificate reload failed; keeping the previous certificate");
      }
    }, 200);
  };
  const watchers: FSWatcher[] = [source.certFile, source.keyFile].map((file) => watch(file, reload));
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
