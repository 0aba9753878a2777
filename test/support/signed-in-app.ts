// Builds the whole application over HTTPS for end-to-end tests (vault, database, mail to a real SMTP
// server, audit trail, documents on a given blob store) and signs people in the way a browser would.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp, type AppOptions } from "../../src/http/app.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createAuditTrail } from "../../src/modules/audit/audit-trail.ts";
import { createIdentityDeps } from "../../src/modules/auth/identity-deps.ts";
import { createSmtpSender } from "../../src/modules/messages/smtp-sender.ts";
import { createSecurityEvents, type SecurityEvents } from "../../src/modules/monitoring/security-events.ts";
import type { BlobStore } from "../../src/store/blob-store.ts";
import type { DatabaseKind } from "../../src/store/database.ts";
import { ensureSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";
import { createVault, type Vault } from "../../src/vault/vault.ts";
import { createVaultRepository } from "../../src/vault/vault-repository.ts";
import { openTestDatabase, type TestDatabase } from "./databases.ts";
import { codeIn, startMailServer, tokenIn, type MailServer } from "./mail-server.ts";
import { WebClient } from "./web-client.ts";

export type Person = { email: string; password: string; name: string };

export type TestApp = {
  app: FastifyInstance;
  base: string;
  ca: Buffer;
  vault: Vault;
  test: TestDatabase;
  mail: MailServer;
  dir: string;
  /** The custodian shares of the app's vault (1 of 1 unless existing shares were given). */
  shares?: string[];
  signUp(person: Person, companyName: string): Promise<{ client: WebClient; tenantId: string; userId: string }>;
  signIn(person: Person): Promise<WebClient>;
  close(): Promise<void>;
};

export type TestAppParts = { vault: Vault; test: TestDatabase; dir: string; mail: MailServer; events: SecurityEvents };

/**
 * existing: a database instead of a fresh one: an initialised one (a restored one, or another node's)
 * with the shares that unseal it, or, without shares, a migrated empty one that is initialised here. It is cleaned up on close
 * unless keepDatabase; mail shares another app's mail server (left open on close).
 */
export type ExistingInstallation = { test: TestDatabase; shares?: string[]; keepDatabase?: boolean; mail?: MailServer };

export async function startTestApp(kind: DatabaseKind, extra: (parts: TestAppParts) => Promise<Partial<AppOptions>>, existing?: ExistingInstallation): Promise<TestApp> {
  const test = existing?.test ?? await openTestDatabase(kind);
  const dir = await mkdtemp(join(tmpdir(), "sr-app-"));
  const mail = existing?.mail ?? await startMailServer();
  const certificate = await ensureSelfSignedCertificate(join(dir, "tls"));
  const ca = await readFile(certificate.certFile);
  const vault = createVault(createVaultRepository(test.database.db));
  const shares = existing?.shares ?? (await vault.initialize(1, 1)).shares;
  for (const share of shares) {
    if (!(await vault.status()).sealed) break;
    await vault.submitShare(share);
  }
  const log = createLogger({ level: "silent" });
  const events = createSecurityEvents();
  const app = await buildApp({
    vault, logger: log, certificate, bodyLimitBytes: 64 * 1024, trustedProxies: [], operatorCidrs: ["127.0.0.1/32"], version: "test",
    identity: createIdentityDeps({
      db: test.database.db, vault, publicUrl: "https://localhost", events,
      messages: createSmtpSender({ kind: "smtp", host: "127.0.0.1", port: mail.port, secure: false, requireTls: false, from: "s@test.example" }),
    }),
    audit: createAuditTrail({ db: test.database.db, vault, log, sqliteFile: test.database.file }),
    ...(await extra({ vault, test, dir, mail, events })),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `https://localhost:${(app.server.address() as { port: number }).port}`;

  async function signIn(person: Person): Promise<WebClient> {
    const client = new WebClient(base, ca);
    const since = mail.received.length;
    const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
    if (login.status !== 202) throw new Error(`sign-in failed: ${login.text}`);
    const verified = await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code: codeIn(await mail.next(person.email, since)) });
    if (verified.status !== 200) throw new Error(`code failed: ${verified.text}`);
    return client;
  }

  return {
    app, base, ca, vault, test, mail, dir, shares, signIn,
    async signUp(person, companyName) {
      const since = mail.received.length;
      await new WebClient(base, ca).post("/v1/auth/signup", { companyName, ...person });
      await new WebClient(base, ca).post("/v1/auth/verify-email", { token: tokenIn(await mail.next(person.email, since)) });
      const client = await signIn(person);
      const session = (await client.get("/v1/auth/session")).json();
      return { client, tenantId: session.tenants[0].id, userId: session.user.id };
    },
    async close() {
      await app.close();
      if (!existing?.mail) await mail.close();
      if (!existing?.keepDatabase) await test.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Invites a person into a company with a role; they accept as a new account and sign in.
export async function inviteAndSignIn(testApp: TestApp, admin: WebClient, tenantId: string, person: Person, role: string): Promise<{ client: WebClient; userId: string }> {
  const since = testApp.mail.received.length;
  const invited = await admin.post(`/v1/tenants/${tenantId}/invitations`, { email: person.email, role });
  if (invited.status !== 201) throw new Error(`invite failed: ${invited.text}`);
  const token = tokenIn(await testApp.mail.next(person.email, since));
  await new WebClient(testApp.base, testApp.ca).post("/v1/invitations/accept", { token, name: person.name, password: person.password });
  const client = await testApp.signIn(person);
  return { client, userId: (await client.get("/v1/auth/session")).json().user.id };
}

export type { BlobStore };
