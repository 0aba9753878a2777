// The embedded default's convenience, like `vault server -dev`: a 1-of-1 share kept on disk beside the
// data so the server unseals itself. Whoever can read the data directory can read everything.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import type { Vault } from "../vault/vault.ts";

export const devShareFileName = "dev-unseal-share.txt";

const warning =
  "DEV UNSEAL: the only unseal share is stored in the data directory. Anyone who can read it can read every " +
  "document. NOT FOR PRODUCTION: initialise with `strongroom operator init --shares 5 --threshold 3` instead.";

export async function devUnseal(vault: Vault, dataDir: string, log: Logger): Promise<void> {
  const shareFile = join(dataDir, devShareFileName);
  const status = await vault.status();
  if (!status.initialized) {
    const { shares } = await vault.initialize(1, 1);
    writeFileSync(shareFile, `${shares[0]}\n`, { mode: 0o600 });
    log.warn({ shareFile }, "initialised a new dev installation (1 of 1 share)");
  } else if (!existsSync(shareFile)) {
    log.info("installation was initialised with custodian shares: starting sealed");
    return;
  }
  await vault.submitShare(readFileSync(shareFile, "utf8").trim());
  log.warn({ event: "dev_unseal" }, warning);
  process.stderr.write(`\n${"!".repeat(100)}\n!! ${warning}\n${"!".repeat(100)}\n\n`);
}
