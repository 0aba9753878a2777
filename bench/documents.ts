// Documents over HTTPS on loopback, against the real server process (dev default: SQLite, files under
// the data directory): download throughput of a 1 GiB document next to nginx (Debian) serving the same
// file's plaintext over HTTPS in the same run; upload throughput and the server's peak memory (VmHWM)
// during a 2 GiB upload; folder-list and search latency with 100,000 documents (wrk's p95, as the
// targets name it, with p99 beside it). The 100,000 titles are indexed by the real blind-index code.
// Needs nginx, curl and wrk (Debian). Uses about 7 GiB of temporary disk.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import type { Insertable } from "kysely";
import { openDatabase } from "../src/store/database.ts";
import { indexDocuments } from "../src/modules/search/search-index.ts";
import type { DocumentsTable, DocumentVersionsTable } from "../src/store/schema.ts";
import { createVault } from "../src/vault/vault.ts";
import { createVaultRepository } from "../src/vault/vault-repository.ts";
import { startServerProcess } from "../test/support/server-process.ts";
import { WebClient } from "../test/support/web-client.ts";
import { compareToReference, median, type BenchResult } from "./support/bench-result.ts";
import { runWrk } from "./support/wrk.ts";

const run = promisify(execFile);
const GiB = 1024 ** 3;
const person = { email: "bench@docs.example", password: "benchmarks measure honestly 1", name: "Bench", companyName: "Bench Co" };

async function writeRandomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const block = randomBytes(8 * 1024 * 1024);
  for (let written = 0; written < size; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, size - written)))) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

async function curlSpeed(args: string[]): Promise<number> {
  const { stdout } = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{speed_download} %{speed_upload} %{http_code}", ...args], { maxBuffer: 1 << 20, timeout: 600_000 });
  const [download, upload, code] = stdout.trim().split(" ");
  if (!code?.startsWith("2")) throw new Error(`curl answered HTTP ${code}`);
  return Math.max(Number(download), Number(upload)) / 1e6;
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

export default async function runDocumentsBench(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "sr-bench-docs-"));
  const dataDir = join(dir, "data");
  // The benchmark is one client hammering one account: lift the per-address and per-account limits so
  // every request is a real one (the run checks that no answer was refused).
  const configFile = join(dir, "strongroom.json");
  const unlimited = { perIp: { limit: 1_000_000 }, perAccount: { limit: 1_000_000 } };
  await writeFile(configFile, JSON.stringify({ abuse: { limits: { default: unlimited, download: unlimited, api: unlimited } } }));
  const env = { STRONGROOM_DATA_DIR: dataDir, STRONGROOM_LOG_LEVEL: "info", STRONGROOM_MAX_UPLOAD_BYTES: String(3 * GiB), STRONGROOM_CONFIG: configFile };
  let server = await startServerProcess([], env);
  let nginx: ReturnType<typeof spawn> | undefined;
  try {
    const ca = await readFile(join(dataDir, "tls", "localhost-cert.pem"));
    const base = () => `https://localhost:${server.httpsPort}`;
    const outbox = async () => (await new WebClient(base(), ca).get("/v1/dev/outbox?limit=5")).json().messages as { text: string }[];
    const client = new WebClient(base(), ca);
    await client.post("/v1/auth/signup", person);
    await client.post("/v1/auth/verify-email", { token: /#token=([\w-]+)/.exec((await outbox()).find((m) => m.text.includes("verify-email"))!.text)![1] });
    const login = await client.post("/v1/auth/login", { email: person.email, password: person.password });
    const code = /code is (\d{6})/.exec((await outbox()).find((m) => m.text.includes("sign-in code"))!.text)![1];
    await client.post("/v1/auth/login/code", { challengeToken: login.json().challengeToken, code });
    const tenantId = (await client.get("/v1/auth/session")).json().tenants[0].id as string;
    const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const authHeaders = ["-H", `cookie: ${cookie}`, "-H", `x-csrf-token: ${client.csrfToken}`];
    const newDocument = async (title: string) => (await client.post(`/v1/tenants/${tenantId}/documents`, { title })).json().id as string;
    const uploadArgs = (documentId: string, file: string) => [
      "-X", "PUT", "-T", file, "-H", "content-type: application/octet-stream", "-H", "x-content-type: application/octet-stream", ...authHeaders,
      `${base()}/v1/tenants/${tenantId}/documents/${documentId}/content?baseVersion=0`,
    ];

    const oneGiB = join(dir, "one.bin");
    const twoGiB = join(dir, "two.bin");
    await writeRandomFile(oneGiB, GiB);
    await writeRandomFile(twoGiB, 2 * GiB);

    const rssBefore = await peakRssMb(server.child.pid!);
    const uploadMBps = await curlSpeed(uploadArgs(await newDocument("two GiB"), twoGiB));
    const peakDuringUpload = await peakRssMb(server.child.pid!);
    process.stdout.write(`  upload 2 GiB: ${uploadMBps.toFixed(0)} MB/s, server peak RSS ${peakDuringUpload.toFixed(0)} MB (before ${rssBefore.toFixed(0)} MB)\n`);

    const oneId = await newDocument("one GiB");
    await curlSpeed(uploadArgs(oneId, oneGiB));

    const nginxDir = join(dir, "nginx");
    await mkdir(join(nginxDir, "www"), { recursive: true });
    await run("ln", [oneGiB, join(nginxDir, "www", "one.bin")]);
    const nginxPort = 20000 + (process.pid % 10000);
    await writeFile(join(nginxDir, "nginx.conf"), `daemon off; worker_processes 1; ${process.getuid?.() === 0 ? "user root;" : ""} pid ${nginxDir}/nginx.pid; error_log ${nginxDir}/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; client_body_temp_path ${nginxDir}; proxy_temp_path ${nginxDir}; fastcgi_temp_path ${nginxDir}; uwsgi_temp_path ${nginxDir}; scgi_temp_path ${nginxDir};
  server { listen 127.0.0.1:${nginxPort} ssl; ssl_certificate ${dataDir}/tls/localhost-cert.pem; ssl_certificate_key ${dataDir}/tls/localhost-key.pem;
    ssl_protocols TLSv1.2 TLSv1.3; root ${nginxDir}/www; } }`);
    nginx = spawn("/usr/sbin/nginx", ["-c", join(nginxDir, "nginx.conf"), "-p", nginxDir], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Turn about, three downloads each, every one on a settled disk (`sync` first: the 3 GiB just
    // uploaded is still being written back); each side's figure is its median.
    const oursRuns: number[] = [];
    const theirsRuns: number[] = [];
    for (let round = 0; round < 3; round++) {
      await run("sync", []);
      oursRuns.push(await curlSpeed([...authHeaders, `${base()}/v1/tenants/${tenantId}/documents/${oneId}/content`]));
      await run("sync", []);
      theirsRuns.push(await curlSpeed([`https://localhost:${nginxPort}/one.bin`]));
    }
    const ours = median(oursRuns);
    const theirs = median(theirsRuns);
    const listed = (runs: number[]) => runs.map((value) => value.toFixed(0)).join(", ");
    process.stdout.write(`  download 1 GiB: strongroom ${ours.toFixed(0)} MB/s (${listed(oursRuns)}), nginx ${theirs.toFixed(0)} MB/s (${listed(theirsRuns)})\n`);

    // 100,000 documents for the listing: rows written straight into the database (sealed titles).
    await server.stop();
    const database = await openDatabase({ kind: "sqlite", path: join(dataDir, "strongroom.db") });
    const vault = createVault(createVaultRepository(database.db));
    await vault.submitShare((await readFile(join(dataDir, "dev-unseal-share.txt"), "utf8")).trim());
    const userId = (await database.db.selectFrom("users").select("id").executeTakeFirstOrThrow()).id;
    const now = new Date().toISOString();
    // Titles from a small vocabulary, so a common word matches thousands of documents and a rare one a few.
    const vocabulary = ["invoice", "contract", "minutes", "policy", "report", "budget", "roadmap", "offer", "receipt", "memo"];
    const rareWord = "zephyrine";
    for (let batch = 0; batch < 100; batch++) {
      const documents: Insertable<DocumentsTable>[] = [];
      const titles: { documentId: string; title: string }[] = [];
      const versions: Insertable<DocumentVersionsTable>[] = [];
      for (let index = 0; index < 1000; index++) {
        const id = randomBytes(16).toString("hex");
        const title = `${vocabulary[index % vocabulary.length]} ${vocabulary[(batch + index) % vocabulary.length]} ${batch}-${index}${index === 500 ? ` ${rareWord}` : ""}`;
        titles.push({ documentId: id, title });
        documents.push({ tenant_id: tenantId, id, folder_id: null, kind: "file" as const, created_by: userId, created_at: now, updated_at: now, deleted_at: null, current_version: 1,
          title_ciphertext: await vault.data.sealString({ tenantId, objectType: "document", objectId: id, objectVersion: 1, field: "title" }, title) });
        versions.push({ tenant_id: tenantId, document_id: id, version: 1, blob_key: `t/${tenantId}/seeded/${id}`, size: 1, sealed_size: 1, content_type: "application/pdf", filename_ciphertext: null, created_by: userId, created_at: now, state: "complete" as const });
      }
      await database.db.transaction().execute(async (trx) => {
        await trx.insertInto("documents").values(documents).execute();
        for (let offset = 0; offset < versions.length; offset += 250) await trx.insertInto("document_versions").values(versions.slice(offset, offset + 250)).execute();
      });
      await indexDocuments(database.db, vault, tenantId, titles);
    }
    await vault.seal();
    await database.close();
    server = await startServerProcess([], env);
    const listClient = new WebClient(`https://localhost:${server.httpsPort}`, ca);
    const relogin = await listClient.post("/v1/auth/login", { email: person.email, password: person.password });
    if (relogin.status === 202) {
      const fresh = (await (new WebClient(`https://localhost:${server.httpsPort}`, ca)).get("/v1/dev/outbox?limit=5")).json().messages as { text: string }[];
      await listClient.post("/v1/auth/login/code", { challengeToken: relogin.json().challengeToken, code: /code is (\d{6})/.exec(fresh.find((m) => m.text.includes("sign-in code"))!.text)![1] });
    }
    const listCookie = [...listClient.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const list = await runWrk(`https://localhost:${server.httpsPort}/v1/tenants/${tenantId}/folders/root?limit=100`, { seconds: 10, connections: 4, headers: { cookie: listCookie }, scriptFile: join(dir, "wrk.lua") });
    if (list.non2xx > 0) throw new Error(`${list.non2xx} listing requests were refused: the figure would be meaningless`);
    process.stdout.write(`  list (100 of 100,000 documents): p50 ${list.p50Ms.toFixed(1)} ms, p95 ${list.p95Ms.toFixed(1)} ms, p99 ${list.p99Ms.toFixed(1)} ms, ${list.requestsPerSecond.toFixed(0)} req/s\n`);
    const searchFor = async (query: string) => {
      const figures = await runWrk(`https://localhost:${server.httpsPort}/v1/tenants/${tenantId}/search?q=${encodeURIComponent(query)}`, { seconds: 10, connections: 4, headers: { cookie: listCookie }, scriptFile: join(dir, "wrk.lua") });
      if (figures.non2xx > 0) throw new Error(`${figures.non2xx} search requests were refused: the figure would be meaningless`);
      process.stdout.write(`  search "${query}" (100,000 documents): p50 ${figures.p50Ms.toFixed(1)} ms, p95 ${figures.p95Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, ${figures.requestsPerSecond.toFixed(0)} req/s\n`);
      return figures;
    };
    const commonSearch = await searchFor("invoice contract");
    const rareSearch = await searchFor(rareWord.slice(0, 5));

    return [
      compareToReference({ name: "download 1 GiB document over HTTPS (curl, loopback; median of 3, turn about with nginx)", value: ours, unit: "MB/s", reference: "nginx serving the same file's plaintext over HTTPS, same run (median of 3)", referenceValue: theirs, target: ">= 0.70 × reference", meets: (_v, ratio) => ratio >= 0.7 }),
      compareToReference({ name: "upload 2 GiB document over HTTPS (curl -T, loopback)", value: uploadMBps, unit: "MB/s", reference: "download figure of nginx, same run (context)", referenceValue: theirs, target: "informational (no target)", meets: () => true }),
      compareToReference({ name: "server peak RSS (VmHWM) through a 2 GiB upload", value: peakDuringUpload, unit: "MB", reference: "target ceiling", referenceValue: 200, target: "< 200 MB", meets: (value) => value < 200 }),
      compareToReference({ name: "folder list latency, first 100 of 100,000 documents, p95 (wrk, 4 connections)", value: list.p95Ms, unit: "ms", reference: "target ceiling", referenceValue: 50, target: "< 50 ms", meets: (value) => value < 50 }),
      compareToReference({ name: "context: the same listing, p99", value: list.p99Ms, unit: "ms", reference: "target ceiling (p95)", referenceValue: 50, target: "informational (no target)", meets: () => true }),
      compareToReference({ name: "search latency, two common words (thousands of matches, first 50), 100,000 documents, p95 (wrk)", value: commonSearch.p95Ms, unit: "ms", reference: "target ceiling", referenceValue: 300, target: "< 300 ms", meets: (value) => value < 300 }),
      compareToReference({ name: "search latency, prefix of a rare word (100 matches), 100,000 documents, p95 (wrk)", value: rareSearch.p95Ms, unit: "ms", reference: "target ceiling", referenceValue: 300, target: "< 300 ms", meets: (value) => value < 300 }),
    ];
  } finally {
    nginx?.kill("SIGTERM");
    await server.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
