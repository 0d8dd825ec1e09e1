// Two `requests` columns that are nearly always a copy of another (schema version 4): `time`, the
// record's ISO text, is the ISO form of `ts` for every record the gateway writes, and `usage_json`
// is the `usage` object of the stored response for every non-streamed answer. A row stores them
// (in `time_text` and `usage_text`) only when they differ from what the row would derive; `time`
// and `usage_json` are VIRTUAL generated columns that read back exactly what was written, so
// every reader (SELECT *, the console, bundles, the sqlite3 shell) sees the same values as before.
// The comparison is made by SQLite itself when a row is written, with the very expressions the
// generated columns use, so a value whose derived form differs in any byte is simply kept.
//
// A version 3 partition's table is rebuilt in the caller's transaction (same rowids, so the FTS
// index stays valid; a version 3 rollup trigger goes with the old table, and the upgrade that
// follows brings the rollup up to date: usage-rollup.ts).
//
// Keep triggers off `requests`: with generated columns, SQLite gives every INSERT on a table with
// a trigger a statement journal (a trigger's NEW row computes them after the insert, and that may
// fail), which copies each page the insert touches: measured 13 -> 24 µs a row, and a temp file
// once it passes 64 KiB. That is why the usage rollup is counted from code.
import type Database from 'better-sqlite3';
import { FTS_DDL, FTS_VIEW } from './fts-content.js';

type Db = Database.Database;

/**
 * The SQL below names a column through `col`, called once for each place it appears, in the
 * text's order: a column name for table expressions, or a `?` whose value a statement binds
 * (insertValues records the order).
 */
type Col = (column: string) => string;
const byName: Col = (column) => column;

/** `ts` (epoch ms, UTC) as Date.prototype.toISOString writes it. */
const isoOfTs = (col: Col): string => `strftime('%Y-%m-%dT%H:%M:%fZ', ${col('ts')} / 1000.0, 'unixepoch')`;

/** The stored response's `usage`, as JSON text; NULL when it has none or is not JSON. */
const usageOfResponse = (col: Col): string =>
  `(CASE WHEN json_valid(${col('response_json')}) THEN json_extract(${col('response_json')}, '$.usage') END)`;

/** What a row stores for `time`: NULL when the text is the ISO form of ts. */
const storedTime = (col: Col): string =>
  `(CASE WHEN ${col('time')} IS ${isoOfTs(col)} THEN NULL ELSE ${col('time')} END)`;

/**
 * What a row stores for `usage_json`: NULL when it is the response's usage, '' when the record
 * had no usage but the response has one (no JSON text is empty), else the text itself.
 */
const storedUsage = (col: Col): string =>
  `(CASE WHEN ${col('usage_json')} IS ${usageOfResponse(col)} THEN NULL WHEN ${col('usage_json')} IS NULL THEN '' ELSE ${col('usage_json')} END)`;

/** The two columns' definitions inside CREATE TABLE requests. */
export const DERIVED_COLUMNS_DDL = `
  time_text TEXT,
  time TEXT GENERATED ALWAYS AS (IFNULL(time_text, ${isoOfTs(byName)})) VIRTUAL,
  usage_text TEXT,
  usage_json TEXT GENERATED ALWAYS AS (CASE WHEN usage_text IS NULL THEN ${usageOfResponse(byName)}
    WHEN usage_text <> '' THEN usage_text END) VIRTUAL`;

/** Logical columns (REQUEST_COLUMNS names) whose stored form is computed from another. */
const DERIVED = new Set(['time', 'usage_json']);

/** Whether `requests` (in `schema`) stores time and usage as derived columns. */
export function hasDerivedColumns(db: Db, schema = 'main'): boolean {
  const columns = db.prepare(`PRAGMA ${schema}.table_xinfo(requests)`).all() as { name: string }[];
  return columns.some((c) => c.name === 'time_text');
}

function stored(columns: readonly string[], col: Col): { into: string; values: string } {
  const into: string[] = [];
  const values: string[] = [];
  for (const c of columns) {
    if (DERIVED.has(c)) continue;
    into.push(c);
    values.push(col(c));
  }
  if (columns.includes('time')) {
    into.push('time_text');
    values.push(storedTime(col));
  }
  if (columns.includes('usage_json')) {
    into.push('usage_text');
    values.push(storedUsage(col));
  }
  return { into: into.join(', '), values: values.join(', ') };
}

/**
 * The INSERT target columns and the SELECT expressions that copy rows whose logical columns are
 * `columns` (read by name from a source: a table of either layout) into a version 4 table.
 */
export function storedSelect(columns: readonly string[]): { into: string; select: string } {
  const { into, values } = stored(columns, byName);
  return { into, select: values };
}

/**
 * INSERT … VALUES for one row of logical columns `columns`: `binds` lists the column whose value
 * goes to each `?`, in order (a derived column's test reads some values twice). Positional
 * binding, and VALUES rather than a SELECT, which would make SQLite open a statement journal.
 */
export function insertValues(columns: readonly string[]): { into: string; values: string; binds: string[] } {
  const binds: string[] = [];
  const { into, values } = stored(columns, (column) => {
    binds.push(column);
    return '?';
  });
  return { into, values, binds };
}

/**
 * Rebuilds a version 3 `requests` as version 4 inside the caller's transaction. `createTable` is
 * the new table's DDL and `indexes` its indexes (schema.ts owns both). The FTS view names the
 * table, so it is dropped first and put back; triggers on the old table go with it.
 */
export function rebuildWithDerivedColumns(
  db: Db,
  createTable: string,
  indexes: string,
  logicalColumns: readonly string[],
): void {
  const hadView =
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?").get(FTS_VIEW) !== undefined;
  db.exec(`DROP VIEW IF EXISTS ${FTS_VIEW}`);
  db.exec('ALTER TABLE requests RENAME TO requests_before_v4');
  db.exec(createTable);
  const { into, select } = storedSelect(logicalColumns);
  db.exec(
    `INSERT INTO requests (rowid, ${into}) SELECT rowid, ${select} FROM requests_before_v4 ORDER BY rowid`,
  );
  db.exec('DROP TABLE requests_before_v4');
  db.exec(indexes);
  if (hadView) db.exec(FTS_DDL);
}
