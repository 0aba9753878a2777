// `strongroom dev outbox` end to end on a temporary data directory (the CLI lives in src/cli/dev-commands.ts).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { UsageError, type Output } from "../../cli/cli-io.ts";
import { runDevCommand } from "../../cli/dev-commands.ts";
import { loadConfig, type Config } from "../../config/config.ts";
import { createLogger } from "../../log/logger.ts";
import { devUnseal } from "../../runtime/dev-unseal.ts";
import { openRuntime } from "../../runtime/open-runtime.ts";
import type { Message } from "./message.ts";
import { createOutboxSender } from "./outbox-sender.ts";

const invitation: Message = {
  channel: "email",
  to: "carol@example.test",
  subject: "You are invited to Acme",
  text: "Accept the invitation:\nhttps://strongroom.test/invite#k3y-q9",
  purpose: "invitation",
};
const code: Message = { channel: "sms", to: "+41791234567", subject: "", text: "Strongroom code 902117", purpose: "device_code" };

function capture(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (text) => lines.push(text), err: (text) => errors.push(text) };
}

function configFor(dataDir: string): Config {
  return loadConfig({ env: {}, overrides: { dataDir } });
}

describe("strongroom dev outbox", () => {
  let devDir: string;
  let config: Config;

  before(async () => {
    devDir = await mkdtemp(join(tmpdir(), "sr-dev-outbox-"));
    config = configFor(devDir);
    const runtime = await openRuntime(config);
    try {
      await devUnseal(runtime.vault, devDir, createLogger({ level: "silent" }));
      const outbox = createOutboxSender({ db: runtime.database.db, vault: runtime.vault });
      await outbox.send(invitation);
      await outbox.send(code);
    } finally {
      await runtime.close();
    }
  });
  after(() => rm(devDir, { recursive: true, force: true }));

  it("prints the stored messages, newest first", async () => {
    const io = capture();
    assert.equal(await runDevCommand("outbox", {}, config, io), 0);
    const output = io.lines.join("\n");
    assert.match(output, /^2 message\(s\) in the dev outbox, newest first:/);
    assert.match(output, /sms {2}device_code {2}to \+41791234567\n {2}Strongroom code 902117/);
    assert.match(output, /email {2}invitation {2}to carol@example\.test\nSubject: You are invited to Acme\n {2}Accept the invitation:\n {2}https:\/\/strongroom\.test\/invite#k3y-q9/);
    assert.ok(output.indexOf("device_code") < output.indexOf("invitation"));
  });

  it("prints JSON with --json and honours --limit", async () => {
    const io = capture();
    assert.equal(await runDevCommand("outbox", { json: true, limit: "1" }, config, io), 0);
    const { messages } = JSON.parse(io.lines.join("")) as { messages: Array<Record<string, unknown>> };
    assert.equal(messages.length, 1);
    const { id, createdAt, ...message } = messages[0]!;
    assert.deepEqual(message, code);
    assert.equal(typeof id, "string");
    assert.equal(typeof createdAt, "string");
  });

  it("refuses an installation without a dev share, and creates nothing in an empty directory", async () => {
    const custodianDir = await mkdtemp(join(tmpdir(), "sr-dev-outbox-prod-"));
    try {
      const runtime = await openRuntime(configFor(custodianDir));
      await runtime.vault.initialize(5, 3).finally(() => runtime.close());
      await assert.rejects(runDevCommand("outbox", {}, configFor(custodianDir), capture()), {
        code: "dev_share_missing",
        message: /only a dev installation .* has a dev outbox/,
      });
      const empty = join(custodianDir, "empty");
      await assert.rejects(runDevCommand("outbox", {}, configFor(empty), capture()), { code: "dev_share_missing" });
      assert.equal(existsSync(empty), false);
    } finally {
      await rm(custodianDir, { recursive: true, force: true });
    }
  });

  it("rejects an unknown verb and a bad --limit as usage errors", async () => {
    await assert.rejects(runDevCommand("inbox", {}, config, capture()), UsageError);
    await assert.rejects(runDevCommand(undefined, {}, config, capture()), UsageError);
    await assert.rejects(runDevCommand("outbox", { limit: "0" }, config, capture()), UsageError);
  });
});
