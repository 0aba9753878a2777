// Operator accounts, sign-in and sessions on SQLite and PostgreSQL: the password policy, sealed TOTP
// secrets, one answer for every failure, spent codes, disabled accounts and session lifetimes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { URI } from "otpauth";
import { databaseKinds, openTestDatabase, skipReason, type TestDatabase } from "../../../test/support/databases.ts";
import { isAppError } from "../../errors/app-error.ts";
import { createVault, type Vault } from "../../vault/vault.ts";
import { createVaultRepository } from "../../vault/vault-repository.ts";
import { logInOperator } from "./log-in-operator.ts";
import { addOperator, disableOperator, listOperators, operatorAccountsExist } from "./operator-accounts.ts";
import { createOperatorDeps, type OperatorDeps } from "./operator-deps.ts";
import { totpCodeAt } from "./operator-totp.ts";

const password = "operator passphrase for the night shift";
const client = { ip: "127.0.0.1", userAgent: "test" };

// A code the operator has not spent yet, whatever the previous tests did (keeps tests clear of step boundaries).
async function unspentCode(deps: OperatorDeps, username: string, secret: string): Promise<string> {
  await deps.db.updateTable("operators").set({ totp_last_step: null }).where("username", "=", username).execute();
  return totpCodeAt(secret, Date.now());
}

const rejectsWith = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (error) => {
    assert.ok(isAppError(error), String(error));
    assert.equal(error.code, code);
    return true;
  });

for (const kind of databaseKinds) {
  describe(`operator accounts and sign-in (${kind})`, { skip: await skipReason(kind) }, () => {
    let test: TestDatabase;
    let vault: Vault;
    let deps: OperatorDeps;
    let adaSecret: string;

    before(async () => {
      test = await openTestDatabase(kind);
      vault = createVault(createVaultRepository(test.database.db));
      const { shares } = await vault.initialize(1, 1);
      await vault.submitShare(shares[0]!);
      deps = createOperatorDeps({ db: test.database.db, vault });
    });
    after(() => test?.cleanup());

    it("creates an operator with an argon2id hash and a TOTP secret stored only sealed", async () => {
      assert.equal(await operatorAccountsExist(test.database.db), false);
      const { operator, otpauthUri } = await addOperator(deps, { username: "  Ada ", password });
      assert.equal(operator.username, "ada");
      adaSecret = URI.parse(otpauthUri).secret.base32;
      const row = await test.database.db.selectFrom("operators").selectAll().where("id", "=", operator.id).executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.ok(!row.password_hash.includes(password));
      assert.ok(!Buffer.from(row.totp_secret_ciphertext).includes(adaSecret));
      assert.ok(!Buffer.from(row.totp_secret_ciphertext).includes(Buffer.from(URI.parse(otpauthUri).secret.bytes)));
      assert.equal(row.totp_last_step, null);
      assert.equal(await operatorAccountsExist(test.database.db), true);
    });

    it("refuses weak passwords, bad or taken usernames, and a sealed vault", async () => {
      await rejectsWith(addOperator(deps, { username: "bob", password: "short" }), "password_too_weak");
      await rejectsWith(addOperator(deps, { username: "bob", password: "password1234" }), "password_too_weak");
      for (const username of ["", "-bob", "bob smith", "b".repeat(64), "bob@example.com", "bøb"]) {
        await rejectsWith(addOperator(deps, { username, password }), "validation_failed");
      }
      await rejectsWith(addOperator(deps, { username: "ADA", password }), "conflict");
      const sealed = createVault(createVaultRepository(test.database.db));
      await rejectsWith(addOperator({ db: test.database.db, vault: sealed }, { username: "bob", password }), "sealed");
      assert.deepEqual((await listOperators(test.database.db)).map((operator) => operator.username), ["ada"]);
    });

    it("gives one answer for an unknown name, a wrong password and a wrong code", async () => {
      const code = totpCodeAt(adaSecret, Date.now());
      await rejectsWith(logInOperator(deps, { username: "nobody", password, code }, client), "invalid_credentials");
      await rejectsWith(logInOperator(deps, { username: "ada", password: `${password}!`, code }, client), "invalid_credentials");
      await rejectsWith(logInOperator(deps, { username: "ada", password, code: code === "000000" ? "111111" : "000000" }, client), "invalid_credentials");
      await rejectsWith(logInOperator(deps, { username: "ada", password, code: totpCodeAt(adaSecret, Date.now() - 120_000) }, client), "invalid_credentials");
      await rejectsWith(logInOperator(deps, { username: "ada", password, code: "" }, client), "invalid_credentials");
      const row = await test.database.db.selectFrom("operators").select("totp_last_step").where("username", "=", "ada").executeTakeFirstOrThrow();
      assert.equal(row.totp_last_step, null, "a refused sign-in spends no code");
    });

    it("signs in with all three, spends the code, and refuses a replay or an earlier code", async () => {
      const now = Date.now();
      const code = totpCodeAt(adaSecret, now);
      const signIn = await logInOperator(deps, { username: "ada", password, code }, client);
      assert.equal(signIn.operator.username, "ada");
      assert.match(signIn.token, /^[A-Za-z0-9_-]{43}$/);
      const stored = await test.database.db.selectFrom("operator_sessions").selectAll().where("id", "=", signIn.session.id).executeTakeFirstOrThrow();
      assert.notEqual(stored.token_hash, signIn.token);
      assert.equal(Date.parse(stored.absolute_expires_at) - Date.parse(stored.created_at), 4 * 3600_000);
      assert.equal(Date.parse(stored.idle_expires_at) - Date.parse(stored.created_at), 30 * 60_000);
      assert.equal((await deps.sessions.resolve(signIn.token)).operator.username, "ada");

      await rejectsWith(logInOperator(deps, { username: "ada", password, code }, client), "invalid_credentials");
      const later = totpCodeAt(adaSecret, now + 30_000);
      await logInOperator(deps, { username: "ada", password, code: later }, client);
      await rejectsWith(logInOperator(deps, { username: "ada", password, code: totpCodeAt(adaSecret, now - 30_000) }, client), "invalid_credentials");
    });

    it("lets only one of two simultaneous sign-ins with the same code through", async () => {
      const { otpauthUri } = await addOperator(deps, { username: "grace", password });
      const secret = URI.parse(otpauthUri).secret.base32;
      const code = totpCodeAt(secret, Date.now());
      const results = await Promise.allSettled([1, 2, 3].map(() => logInOperator(deps, { username: "grace", password, code }, client)));
      assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
      for (const result of results) if (result.status === "rejected") assert.equal(result.reason.code, "invalid_credentials");
    });

    it("ends sessions at the idle and absolute limits, and on sign-out", async () => {
      const { otpauthUri } = await addOperator(deps, { username: "linus", password });
      const secret = URI.parse(otpauthUri).secret.base32;
      const first = await logInOperator(deps, { username: "linus", password, code: await unspentCode(deps, "linus", secret) }, client);
      const second = await logInOperator(deps, { username: "linus", password, code: await unspentCode(deps, "linus", secret) }, client);
      const third = await logInOperator(deps, { username: "linus", password, code: await unspentCode(deps, "linus", secret) }, client);
      const past = new Date(Date.now() - 1000).toISOString();
      await test.database.db.updateTable("operator_sessions").set({ idle_expires_at: past }).where("id", "=", first.session.id).execute();
      await rejectsWith(deps.sessions.resolve(first.token), "session_expired");
      await test.database.db.updateTable("operator_sessions").set({ absolute_expires_at: past }).where("id", "=", second.session.id).execute();
      await rejectsWith(deps.sessions.resolve(second.token), "session_expired");
      await deps.sessions.revoke(third.session.id);
      await rejectsWith(deps.sessions.resolve(third.token), "session_required");
      await rejectsWith(deps.sessions.resolve("x".repeat(500)), "session_required");
    });

    it("disabling an operator ends their sessions and refuses their sign-in with the same answer", async () => {
      const { otpauthUri } = await addOperator(deps, { username: "margaret", password });
      const secret = URI.parse(otpauthUri).secret.base32;
      const signIn = await logInOperator(deps, { username: "margaret", password, code: await unspentCode(deps, "margaret", secret) }, client);
      const disabled = await disableOperator(test.database.db, "Margaret");
      assert.ok(disabled.disabledAt);
      await rejectsWith(deps.sessions.resolve(signIn.token), "session_required");
      await rejectsWith(logInOperator(deps, { username: "margaret", password, code: await unspentCode(deps, "margaret", secret) }, client), "invalid_credentials");
      await rejectsWith(disableOperator(test.database.db, "nobody"), "not_found");
      const listed = await listOperators(test.database.db);
      assert.deepEqual(listed.map((operator) => [operator.username, Boolean(operator.disabledAt)]), [["ada", false], ["grace", false], ["linus", false], ["margaret", true]]);
    });

    it("a sealed vault signs nobody in", async () => {
      const sealed = createOperatorDeps({ db: test.database.db, vault: createVault(createVaultRepository(test.database.db)) });
      await rejectsWith(logInOperator(sealed, { username: "ada", password, code: totpCodeAt(adaSecret, Date.now() + 30_000) }, client), "sealed");
      await rejectsWith(logInOperator(sealed, { username: "nobody", password, code: "123456" }, client), "sealed");
    });
  });
}
