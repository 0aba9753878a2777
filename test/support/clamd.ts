// A real clamd (Debian clamav-daemon, /usr/sbin/clamd) for tests: a temporary directory with its own
// configuration, Unix socket (optionally a loopback TCP port too) and a signature database written here,
// never downloaded: a hash signature for the EICAR test file and a body signature for a marker string.
//
// Usage:
//   describe("…", { skip: await clamdSkipReason() }, () => {
//     before(async () => { clamd = await startClamd(); });
//     after(() => clamd.stop());
//     createClamdScanner({ socketPath: clamd.socketPath }, …).scanStream(Readable.from([eicarTestFile()]));
//   });
//
// A watchdog shell kills clamd if the test process dies without stop(), so no daemon is left behind.

import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const clamdPath = process.env.STRONGROOM_CLAMD ?? "/usr/sbin/clamd";

const inCi = process.env.CI === "true";

/** The names clamd reports (it marks signatures from an unsigned database UNOFFICIAL). */
export const testSignatures = {
  eicar: "Strongroom.Test.EICAR.UNOFFICIAL",
  marker: "Strongroom.Test.Marker.UNOFFICIAL",
} as const;

/** Bytes that the test database's body signature finds anywhere in a file. */
export const testMarker = Buffer.from("STRONGROOM-TEST-MALWARE-MARKER-5d1e2b9a", "ascii");

/** The 68-byte EICAR anti-virus test file, put together at run time so no source file contains it whole. */
export function eicarTestFile(): Buffer {
  return Buffer.from(["X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR", "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].join(""), "latin1");
}

export type ClamdLimits = {
  /** clamd.conf StreamMaxLength, e.g. "10M": INSTREAM is cut off beyond it. */
  streamMaxLength?: string;
  /** clamd.conf MaxFileSize and MaxScanSize; beyond them a file is reported as Heuristics.Limits.Exceeded.*. */
  maxFileSize?: string;
};

export type TestClamd = {
  socketPath: string;
  /** With tcp: the loopback address clamd also listens on. */
  tcp?: { host: string; port: number };
  /** clamd's process id. */
  pid: number;
  /** SIGSTOP: clamd keeps its sockets open but answers nothing (a hung scanner). */
  pause(): void;
  resume(): void;
  /** SIGKILL: clamd dies at once, mid-scan if one is running. */
  kill(): Promise<void>;
  /** Stops clamd (SIGTERM, it removes its socket) and deletes its directory; safe to repeat. */
  stop(): Promise<void>;
  log(): Promise<string>;
};

/** A reason to skip when clamd is not installed, or false; with CI=true a missing clamd throws. */
export async function clamdSkipReason(): Promise<string | false> {
  const found = await access(clamdPath, constants.X_OK).then(() => true, () => false);
  if (found) return false;
  if (inCi) throw new Error(`clamd is not installed at ${clamdPath} and CI=true: the malware-scanning tests must run in CI (apt-get install clamav-daemon)`);
  return `clamd is not installed at ${clamdPath} (apt-get install clamav-daemon, or set STRONGROOM_CLAMD)`;
}

export async function startClamd(options: ClamdLimits & { tcp?: boolean } = {}): Promise<TestClamd> {
  const directory = await mkdtemp(join(tmpdir(), "sr-test-clamd-"));
  const databaseDirectory = join(directory, "db");
  const scratch = join(directory, "tmp");
  await mkdir(databaseDirectory);
  await mkdir(scratch);
  await writeTestDatabase(databaseDirectory);

  const socketPath = join(directory, "clamd.sock");
  const logFile = join(directory, "clamd.log");
  const tcp = options.tcp === true ? { host: "127.0.0.1", port: await freeLoopbackPort() } : undefined;
  const maxFileSize = options.maxFileSize ?? "100M";
  const settings = [
    "Foreground yes",
    `LocalSocket ${socketPath}`,
    "LocalSocketMode 600",
    ...(tcp ? [`TCPSocket ${tcp.port}`, `TCPAddr ${tcp.host}`] : []),
    `DatabaseDirectory ${databaseDirectory}`,
    `TemporaryDirectory ${scratch}`,
    `LogFile ${logFile}`,
    `PidFile ${join(directory, "clamd.pid")}`,
    `StreamMaxLength ${options.streamMaxLength ?? "10M"}`,
    `MaxFileSize ${maxFileSize}`,
    `MaxScanSize ${maxFileSize}`,
    // Fail closed, as production should: a file too large to scan fully is reported, not passed.
    "AlertExceedsMax yes",
    "Bytecode no",
  ];
  const configFile = join(directory, "clamd.conf");
  await writeFile(configFile, `${settings.join("\n")}\n`);

  const child = spawn(clamdPath, ["--config-file", configFile], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const exited = once(child, "exit");
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid!));
    child.once("error", reject);
  });
  const watchdog = spawn("/bin/sh", ["-c", 'read _ignored; kill -9 "$1"', "sh", String(pid)], { stdio: ["pipe", "ignore", "ignore"] });
  // The watchdog must not keep this process alive; it only waits for its stdin to close.
  watchdog.unref();
  (watchdog.stdin as unknown as Socket).unref();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The watchdog goes first, so it can never signal a later process that got clamd's id.
    watchdog.kill("SIGKILL");
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  };
  const readLog = () => readFile(logFile, "utf8").catch(() => "");

  try {
    await waitForPong(socketPath, child, 30_000);
  } catch (error) {
    const log = await readLog();
    await stop();
    throw new Error(`clamd did not start: ${(error as Error).message}\n${stderr}${log}`);
  }

  return {
    socketPath,
    ...(tcp !== undefined && { tcp }),
    pid,
    pause: () => process.kill(pid, "SIGSTOP"),
    resume: () => process.kill(pid, "SIGCONT"),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
    stop,
    log: readLog,
  };
}

// .hdb: "md5:size:name" of a whole file; .ndb: "name:target:offset:hex" matching bytes anywhere (target 0 = any file).
async function writeTestDatabase(directory: string): Promise<void> {
  const eicar = eicarTestFile();
  const md5 = createHash("md5").update(eicar).digest("hex");
  await writeFile(join(directory, "strongroom-test.hdb"), `${md5}:${eicar.length}:Strongroom.Test.EICAR\n`);
  await writeFile(join(directory, "strongroom-test.ndb"), `Strongroom.Test.Marker:0:*:${testMarker.toString("hex")}\n`);
}

async function waitForPong(socketPath: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`clamd exited (${child.exitCode ?? child.signalCode})`);
    if ((await rawPing(socketPath)) === "PONG") return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`clamd did not answer PING within ${timeoutMs} ms`);
}

// Independent of the code under test: one zPING, its NUL-terminated answer, or undefined.
function rawPing(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ path: socketPath });
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      answer += text;
    });
    socket.on("error", () => resolve(undefined));
    socket.on("close", () => resolve(answer.endsWith("\0") ? answer.slice(0, -1) : undefined));
    socket.setTimeout(1000, () => socket.destroy());
    socket.end("zPING\0");
  });
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
