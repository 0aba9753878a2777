import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { tarEnd, tarEntryBytes, tarHeader } from "./tar-writer.ts";

const run = promisify(execFile);

async function collect(parts: AsyncIterable<Buffer>[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const part of parts) for await (const chunk of part) out.push(chunk);
  return Buffer.concat(out);
}

describe("tar writer", () => {
  it("writes archives that GNU tar lists and extracts byte for byte", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sr-tar-"));
    try {
      const big = Buffer.alloc(70_000, 7);
      const archive = Buffer.concat([
        await collect([
          tarEntryBytes({ name: "manifest.json", size: 2, mtime: new Date(0), body: Buffer.from("{}") }),
          tarEntryBytes({ name: "documents/abc/v1", size: big.length, mtime: new Date(), body: Readable.from([big.subarray(0, 1000), big.subarray(1000)]) }),
          tarEntryBytes({ name: "empty", size: 0, mtime: new Date(), body: Buffer.alloc(0) }),
        ]),
        tarEnd(),
      ]);
      await writeFile(join(dir, "a.tar"), archive);
      const listed = await run("tar", ["-tf", join(dir, "a.tar")]);
      assert.deepEqual(listed.stdout.trim().split("\n"), ["manifest.json", "documents/abc/v1", "empty"]);
      await run("tar", ["-xf", join(dir, "a.tar"), "-C", dir]);
      assert.deepEqual(await readFile(join(dir, "documents/abc/v1")), big);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a body of another size than announced and names that are not plain relative paths", async () => {
    await assert.rejects(collect([tarEntryBytes({ name: "x", size: 5, mtime: new Date(), body: Readable.from([Buffer.from("abc")]) })]), /3 bytes where 5/);
    await assert.rejects(collect([tarEntryBytes({ name: "x", size: 2, mtime: new Date(), body: Readable.from([Buffer.from("abc")]) })]), /where 2/);
    for (const name of ["/etc/passwd", "a/../b", "", "a\nb", "x".repeat(101)]) assert.throws(() => tarHeader(name, 0, new Date()));
  });

  it("encodes sizes of 8 GiB and more in base-256", () => {
    const header = tarHeader("huge", 10 * 1024 ** 3, new Date(0));
    assert.equal(header[124], 0x80);
    assert.equal(header.readBigUInt64BE(128), BigInt(10 * 1024 ** 3));
  });
});
