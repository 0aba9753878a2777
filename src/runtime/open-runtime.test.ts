// Only the server's start-up sweeps the blob store's temporary files: a command run beside a live
// server must not remove the temporary file of an upload in progress.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig, type Config } from "../config/config.ts";
import { openRuntime } from "./open-runtime.ts";

describe("openRuntime and the blob store's temporary files", () => {
  let dataDir: string;
  let config: Config;
  let uploading: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sr-open-runtime-"));
    config = loadConfig({ env: {}, overrides: { dataDir } });
    const dir = join(config.blobDirectory, "t", "tenant-a");
    await mkdir(dir, { recursive: true });
    uploading = join(dir, `.tmp-${"ab".repeat(16)}`);
    await writeFile(uploading, "half an upload");
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it("a command's runtime leaves an upload's temporary file alone", async () => {
    const runtime = await openRuntime(config);
    await runtime.close();
    assert.ok(existsSync(uploading));
  });

  it("the server's start-up removes what an interrupted write left", async () => {
    const runtime = await openRuntime(config, { cleanupBlobTemps: true });
    await runtime.close();
    assert.ok(!existsSync(uploading));
  });
});
