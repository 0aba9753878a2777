// Password hashing on its worker threads: right and wrong passwords, broken hashes, bursts, and the
// lower scheduling priority that keeps the event loop answering during a burst of sign-ins.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { hashPassword, needsRehash, passwordHashParameters, verifyPassword } from "./passwords.ts";

const niceValuesOfThreads = async (): Promise<number[]> => {
  const tasks = await readdir("/proc/self/task");
  return Promise.all(tasks.map(async (task) => {
    // Field 19 of stat is the nice value; the command name (field 2) may hold spaces, so count after ")".
    const stat = await readFile(`/proc/self/task/${task}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  }));
};

describe("password hashing", () => {
  it("hashes with argon2id at the configured parameters and verifies only the right password", async () => {
    const hash = await hashPassword("correct horse battery staple");
    assert.match(hash, new RegExp(`^\\$argon2id\\$v=19\\$m=${passwordHashParameters.memoryCost},t=${passwordHashParameters.timeCost},p=${passwordHashParameters.parallelism}\\$`));
    assert.equal(needsRehash(hash), false);
    assert.equal(await verifyPassword(hash, "correct horse battery staple"), true);
    assert.equal(await verifyPassword(hash, "correct horse battery stapler"), false);
    assert.notEqual(await hashPassword("correct horse battery staple"), hash, "every hash has its own salt");
  });

  it("treats a broken or missing stored hash as a wrong password", async () => {
    assert.equal(await verifyPassword("$argon2id$v=19$broken", "anything at all here"), false);
    assert.equal(await verifyPassword(null, "anything at all here"), false);
    assert.equal(needsRehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA"), true);
  });

  it("answers every request of a burst, each with its own result", async () => {
    const hash = await hashPassword("the one right password");
    const attempts = Array.from({ length: 12 }, (_, index) => (index % 3 === 0 ? "the one right password" : `wrong password number ${index}`));
    const results = await Promise.all(attempts.map((attempt) => verifyPassword(hash, attempt)));
    assert.deepEqual(results, attempts.map((attempt) => attempt === "the one right password"));
  });

  it("runs argon2 on a thread of lower scheduling priority than the event loop", { skip: process.platform !== "linux" && "thread nice values are Linux's" }, async () => {
    await hashPassword("warm up the worker pool");
    const values = await niceValuesOfThreads();
    const main = Number((await readFile("/proc/self/stat", "utf8")).split(") ")[1]!.split(" ")[16]);
    assert.ok(values.some((value) => value > main), `a thread with a higher nice value than the main thread (${main}): ${values.join(",")}`);
  });
});
