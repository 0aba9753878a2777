// `strongroom audit verify [--tenant ID] [--json]`: checks every audit chain (or one company's) for an
// altered, removed or reordered record. Exit code 1 when anything is wrong.
import type { Config } from "../config/config.ts";
import { verifyAuditChains } from "../modules/audit/verify-audit-chain.ts";
import { openRuntime } from "../runtime/open-runtime.ts";
import { type Output, UsageError } from "./cli-io.ts";
import { unsealForCommand } from "./unseal-for-command.ts";

export type AuditFlags = { tenant?: string | undefined; json?: boolean | undefined };

export async function runAuditCommand(verb: string | undefined, flags: AuditFlags, config: Config, io: Output): Promise<number> {
  if (verb !== "verify") throw new UsageError(`unknown audit command ${verb ?? "(none)"}: use verify`);
  const runtime = await openRuntime(config);
  try {
    await unsealForCommand(runtime, config);
    const reports = await verifyAuditChains(runtime.database.db, runtime.vault, flags.tenant);
    const broken = reports.filter((report) => report.problems.length > 0);
    if (flags.json) io.out(JSON.stringify({ ok: broken.length === 0, chains: reports }));
    else {
      for (const report of reports) {
        io.out(`${report.problems.length ? "BROKEN" : "ok    "}  chain ${report.chainId}: ${report.records} record(s), ${report.checkpoints} signed checkpoint(s)`);
        for (const problem of report.problems) io.out(`        - ${problem}`);
      }
      io.out(broken.length === 0 ? `audit trail intact (${reports.length} chain(s))` : `audit trail BROKEN in ${broken.length} chain(s)`);
    }
    return broken.length === 0 ? 0 : 1;
  } finally {
    await runtime.close();
  }
}
