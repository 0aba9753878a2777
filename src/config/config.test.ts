import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "./config.ts";

describe("configuration", () => {
  it("keeps the sub-processors register and the retention sweep interval, and refuses a malformed entry", async () => {
    assert.deepEqual(loadConfig({ env: {} }).privacy, { subProcessors: [], retentionSweepMinutes: 60 });
    const dir = await mkdtemp(join(tmpdir(), "sr-config-"));
    try {
      const file = join(dir, "strongroom.json");
      const entry = { name: "Mail Co", purpose: "e-mail delivery", location: "EU", dataCategories: ["e-mail address"], url: "https://mail.example/dpa" };
      await writeFile(file, JSON.stringify({ privacy: { subProcessors: [entry] } }));
      const config = loadConfig({ file, env: { STRONGROOM_RETENTION_SWEEP_MINUTES: "15" } });
      assert.deepEqual(config.privacy, { subProcessors: [entry], retentionSweepMinutes: 15 });
      await writeFile(file, JSON.stringify({ privacy: { subProcessors: [{ name: "No purpose", location: "EU" }] } }));
      assert.throws(() => loadConfig({ file, env: {} }), (error: { code?: string; message: string }) => error.code === "config_invalid" && /privacy\.subProcessors\.0\.purpose/.test(error.message));
      assert.throws(() => loadConfig({ env: { STRONGROOM_RETENTION_SWEEP_MINUTES: "0" } }), { code: "config_invalid" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("defaults to the embedded shape: SQLite and files under ./data, dev unseal, 8443/8080", () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.database.kind, "sqlite");
    assert.equal(config.blobStore.kind, "fs");
    assert.match(config.databasePath, /data\/strongroom\.db$/);
    assert.match(config.blobDirectory, /data\/blobs$/);
    assert.equal(config.devUnsealEnabled, true);
    assert.deepEqual([config.server.port, config.server.httpPort], [8443, 8080]);
    assert.deepEqual(config.server.trustedProxies, []);
  });

  it("takes file, then environment, then flags, in rising precedence", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sr-config-"));
    try {
      const file = join(dir, "strongroom.json");
      await writeFile(file, JSON.stringify({ server: { port: 9000, httpPort: 9001 }, logLevel: "warn" }));
      const config = loadConfig({
        file,
        env: { STRONGROOM_PORT: "9100", STRONGROOM_DATA_DIR: dir, STRONGROOM_TRUSTED_PROXIES: "10.0.0.1, 10.0.0.2" },
        overrides: { "server.port": "9200" },
      });
      assert.deepEqual([config.server.port, config.server.httpPort, config.logLevel], [9200, 9001, "warn"]);
      assert.equal(config.dataDir, dir);
      assert.deepEqual(config.server.trustedProxies, ["10.0.0.1", "10.0.0.2"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("PostgreSQL turns dev unseal off by default and takes TLS settings", () => {
    const config = loadConfig({ env: { STRONGROOM_DATABASE_URL: "postgres://db.internal/strongroom", STRONGROOM_DATABASE_SSLMODE: "verify-full" } });
    assert.equal(config.database.kind, "postgres");
    assert.equal(config.devUnsealEnabled, false);
    assert.equal(config.database.kind === "postgres" && config.database.sslmode, "verify-full");
  });

  it("takes SMTP and SMS settings, secrets included, from the environment", () => {
    const config = loadConfig({ env: { STRONGROOM_SMTP_HOST: "smtp.example.com", STRONGROOM_SMTP_USER: "relay", STRONGROOM_SMTP_PASSWORD: "pw-from-env", STRONGROOM_SMTP_FROM: "noreply@example.com" } });
    assert.equal(config.messages.email.kind, "smtp");
    assert.equal(config.messages.email.kind === "smtp" && config.messages.email.password, "pw-from-env");
    assert.equal(config.messages.sms.kind, "outbox");
  });

  it("names every wrong setting in one clear message", () => {
    assert.throws(
      () => loadConfig({ env: { STRONGROOM_PORT: "99999", STRONGROOM_REDIS_URL: "http://x", STRONGROOM_TLS_CERT_FILE: "/c.pem" } }),
      (error: Error & { code: string }) => {
        assert.equal(error.code, "config_invalid");
        assert.match(error.message, /server\.port/);
        assert.match(error.message, /redis\.url: must be a redis:\/\/ or rediss:\/\/ URL/);
        assert.match(error.message, /tls: set both tls\.certFile and tls\.keyFile/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ env: { STRONGROOM_DEV_UNSEAL: "maybe" } }), /STRONGROOM_DEV_UNSEAL: must be true or false/);
    assert.throws(() => loadConfig({ file: "/nonexistent/strongroom.json" }), /cannot read the configuration file/);
  });
});
