// Adapts Node's built-in synchronous SQLite driver (node:sqlite) to the better-sqlite3-shaped
// interface that Kysely's SqliteDialect expects, so the embedded store needs no native addon.

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { SqliteDatabase, SqliteStatement } from "kysely";

// Kysely prepares every query afresh; preparing costs more than running a small query, so the
// adapted statements are kept per SQL text (the set of distinct query shapes is small and fixed).
const maxCachedStatements = 500;

export function adaptNodeSqlite(database: DatabaseSync): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (!statement) {
        statement = adaptStatement(database.prepare(sql));
        if (statements.size >= maxCachedStatements) statements.clear();
        statements.set(sql, statement);
      }
      return statement;
    },
    // Kysely's destroy() and our own close() may both try to close the handle.
    close: () => {
      if (database.isOpen) database.close();
    },
  };
}

function adaptStatement(statement: StatementSync): SqliteStatement {
  const columns = statement.columns().map((column) => column.name);
  // Rows come as arrays and are built into plain objects here: node:sqlite's own row objects have a null
  // prototype and are read back through Object.entries, which costs ~5× as much (5,000 rows: ~30 ms
  // against ~6 ms, measured).
  statement.setReturnArrays(true);
  const toRow = (values: unknown) => toBufferRow(columns, values as unknown[]);
  return {
    // A statement that yields columns (SELECT, PRAGMA, INSERT … RETURNING) must be read with all();
    // the others are run() so Kysely gets numAffectedRows and insertId.
    reader: columns.length > 0,
    all: (parameters) => statement.all(...toSqliteParameters(parameters)).map(toRow),
    run: (parameters) => statement.run(...toSqliteParameters(parameters)),
    iterate: (parameters) => iterateRows(statement, parameters, toRow),
  };
}

function* iterateRows(statement: StatementSync, parameters: ReadonlyArray<unknown>, toRow: (values: unknown) => unknown): IterableIterator<unknown> {
  for (const values of statement.iterate(...toSqliteParameters(parameters))) yield toRow(values);
}

function toSqliteParameters(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map(toSqliteParameter);
}

// node:sqlite rejects booleans (and anything else outside its value types) instead of coercing them,
// unlike better-sqlite3; SQLite has no boolean type, so store them as 0/1 as better-sqlite3 would.
function toSqliteParameter(value: unknown): SQLInputValue {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === null || typeof value === "number" || typeof value === "bigint" || typeof value === "string") {
    return value;
  }
  if (ArrayBuffer.isView(value)) return value as NodeJS.ArrayBufferView;
  throw new TypeError(`SQLite cannot bind a parameter of type ${value === undefined ? "undefined" : typeof value}`);
}

// pg returns ordinary objects and Buffers, node:sqlite BLOBs as plain Uint8Array: hand out the former on
// both dialects so callers see one shape. (Of two columns with one name, the later wins, as in pg.)
function toBufferRow(columns: string[], values: unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let index = 0; index < columns.length; index++) {
    const value = values[index];
    row[columns[index]!] =
      value instanceof Uint8Array && !Buffer.isBuffer(value)
        ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) // zero-copy view
        : value;
  }
  return row;
}
