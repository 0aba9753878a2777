// Offline commands that must read sealed data unseal their own runtime: with the dev share when the
// data directory has one, otherwise with the custodians' shares read from standard input.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { AppError } from "../errors/app-error.ts";
import { devShareFileName } from "../runtime/dev-unseal.ts";
import type { Runtime } from "../runtime/open-runtime.ts";
import { readSecretLines } from "./cli-io.ts";

export async function unsealForCommand(runtime: Runtime, config: Config): Promise<void> {
  const status = await runtime.vault.status();
  if (!status.initialized) throw new AppError("not_initialized", "the installation is not initialised");
  const devShare = join(config.dataDir, devShareFileName);
  const shares = existsSync(devShare) ? [readFileSync(devShare, "utf8").trim()] : await readSecretLines(status.threshold, "unseal share");
  for (const share of shares) await runtime.vault.submitShare(share);
  if (runtime.vault.isSealed()) throw new AppError("unseal_failed", "the shares did not unseal the installation");
}
