// `strongroom dev …`: tools for the dev default only. `dev outbox` shows what the dev outbox holds
// (sign-in codes, invitation links), unsealing with the dev share kept beside the data.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import { listOutbox, type OutboxEntry } from "../modules/messages/outbox-sender.ts";
import { devShareFileName } from "../runtime/dev-unseal.ts";
import { openRuntime } from "../runtime/open-runtime.ts";
import { type Output, positiveInteger, UsageError } from "./cli-io.ts";

export type DevFlags = { json?: boolean | undefined; limit?: string | undefined };

const defaultLimit = 20;

export async function runDevCommand(verb: string | undefined, flags: DevFlags, config: Config, io: Output): Promise<number> {
  switch (verb) {
    case "outbox":
      return printOutbox(flags, config, io);
    default:
      throw new UsageError(`unknown dev command ${verb ?? "(none)"}: use outbox`);
  }
}

async function printOutbox(flags: DevFlags, config: Config, io: Output): Promise<number> {
  const limit = flags.limit === undefined ? defaultLimit : positiveInteger(flags.limit, "--limit");
  // Checked before opening the database, so that a wrong --data-dir does not create an empty installation.
  const shareFile = join(config.dataDir, devShareFileName);
  if (!existsSync(shareFile)) {
    throw new AppError(
      "dev_share_missing",
      `there is no dev unseal share in ${config.dataDir}: only a dev installation (unsealed by dev unseal) has a dev outbox to read`,
    );
  }
  const share = readFileSync(shareFile, "utf8").trim();
  const runtime = await openRuntime(config);
  try {
    await runtime.vault.submitShare(share);
    const entries = await listOutbox({ db: runtime.database.db, vault: runtime.vault }, limit);
    if (flags.json) io.out(JSON.stringify({ messages: entries.map((entry) => ({ id: entry.id, createdAt: entry.createdAt, ...entry.message })) }));
    else printEntries(io, entries);
    return 0;
  } finally {
    await runtime.close();
  }
}

function printEntries(io: Output, entries: OutboxEntry[]): void {
  if (entries.length === 0) {
    io.out("The dev outbox is empty.");
    return;
  }
  io.out(`${entries.length} message(s) in the dev outbox, newest first:`);
  for (const { createdAt, message } of entries) {
    io.out("");
    io.out(`${createdAt}  ${message.channel}  ${message.purpose}  to ${message.to}`);
    if (message.subject) io.out(`Subject: ${message.subject}`);
    io.out(message.text.replace(/\r?\n/g, "\n  ").replace(/^/, "  "));
  }
}
