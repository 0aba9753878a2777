// Opens PostgreSQL through a pg Pool with optional verified TLS, and makes its value types match
// SQLite's: bytea reads as Buffer (pg's default) and int8/bigint as a JS number.

import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { AppError } from "../errors/app-error.ts";
import { attachChangeNotices } from "./change-notices.ts";
import type { Database, PostgresTlsConfig } from "./database.ts";
import { openPostgresChangeNotices } from "./postgres-change-notices.ts";
import type { DatabaseSchema } from "./schema.ts";

const INT8_OID = 20;
const POOL_SIZE = 10;
// pg-connection-string turns these into its own `ssl` object, which would silently replace ours.
const URL_TLS_PARAMETERS = ["ssl", "sslmode", "sslcert", "sslkey", "sslrootcert"];

export async function openPostgresDatabase(
  url: string,
  tls: PostgresTlsConfig | undefined,
  onConnectionError: ((error: Error) => void) | undefined,
): Promise<Database> {
  const pool = new pg.Pool(postgresPoolConfig(url, tls));
  // Without a listener an idle client's network error would crash the process; the pool
  // discards that client by itself.
  pool.on("error", (error) => onConnectionError?.(error));
  // A client checked out of the pool has no error listener (pg-pool removes its idle one), so a
  // server that goes away mid-query (a primary lost before failover) would emit an unhandled 'error'
  // and end the process. The query itself still fails with the error; the pool drops the client.
  pool.on("connect", (client) => {
    client.on("error", (error) => onConnectionError?.(error));
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  // Fail at start-up with the reason (refused, TLS, authentication), not at the first request.
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw new AppError(
      "storage_failed",
      `cannot connect to PostgreSQL at ${redactPassword(url)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const { max: _poolSize, ...clientConfig } = postgresPoolConfig(url, tls);
  const notices = await openPostgresChangeNotices(clientConfig, (error) => onConnectionError?.(error));
  attachChangeNotices(db, notices);
  return {
    kind: "postgres",
    db,
    async close() {
      await notices.close();
      await db.destroy();
    },
  };
}

function redactPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

/** The pg Pool settings for a URL and TLS configuration (exported for tests). */
export function postgresPoolConfig(url: string, tls: PostgresTlsConfig | undefined): pg.PoolConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError("config_invalid", "the PostgreSQL URL is not a valid URL");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new AppError("config_invalid", `the PostgreSQL URL must start with postgres://, not ${parsed.protocol}//`);
  }
  const config: pg.PoolConfig = { connectionString: url, max: POOL_SIZE, types: { getTypeParser } };
  if (tls === undefined) return config;

  const conflicting = URL_TLS_PARAMETERS.filter((name) => parsed.searchParams.has(name));
  if (conflicting.length > 0) {
    throw new AppError(
      "config_invalid",
      `PostgreSQL TLS is configured both in the URL (${conflicting.join(", ")}) and in the TLS settings; use one`,
    );
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new AppError("config_invalid", "a PostgreSQL client certificate needs both cert and key");
  }
  config.ssl = {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.cert !== undefined && { cert: tls.cert }),
    ...(tls.key !== undefined && { key: tls.key }),
    ...(tls.servername !== undefined && { servername: tls.servername }),
  };
  return config;
}

// Per pool rather than pg.types.setTypeParser, which would change every pg user in the process.
const getTypeParser = ((oid: number, format?: "text" | "binary") => {
  if (oid === INT8_OID && format !== "binary") return parseSafeInt8;
  return pg.types.getTypeParser(oid, format);
}) as typeof pg.types.getTypeParser;

// Our bigint columns (sizes, counters) stay far below 2^53; a larger value fails the query
// (pg turns a parser exception into a query error) rather than being rounded silently.
function parseSafeInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new AppError("storage_failed", `a bigint value (${text}) is outside the safe JavaScript integer range`);
  }
  return value;
}
