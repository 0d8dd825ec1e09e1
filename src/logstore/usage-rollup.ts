// Hourly usage rollups kept inside each partition (schema version 3): per UTC hour, provider,
// model (the mapped one, else the requested one) and client key hash, the requests, errors,
// tokens and cost of the rows in `requests`, so the console's usage page reads a few hundred rows
// per day instead of every request.
//
// ai-proxy's two ways of adding rows keep them: insertRequestRowid (CLI ingest, the in-server
// ingest) calls countUsage for each new row, and a merge (bundle import, `logs merge`) calls
// countUsageAfter for the rows it copied. Schema version 3 used an AFTER INSERT trigger instead;
// once `requests` gained generated columns (version 4), a trigger made SQLite give every insert a
// statement journal, +8 µs a row (+17% ingest CPU), against ~1-2 µs for the upsert run here. A
// trigger a version 3 partition still has is dropped the first time a connection counts (never
// both). Rows are never deleted or recounted (prune removes whole partitions, dialog grouping only
// sets dialog_id). Rows written by other tools (the sqlite3 shell) are not counted.
//
// A partition either has the table, filled when it was created or migrated, or has not (written
// by an older ai-proxy and not yet opened for writing): hasUsageRollup tells readers which, and
// those without it are read from the raw rows.
import type Database from 'better-sqlite3';

type Db = Database.Database;

export const USAGE_TABLE = 'usage_hourly';
export const HOUR_MS = 3_600_000;
/** The trigger schema version 3 kept the table with. */
const OLD_TRIGGER = `${USAGE_TABLE}_insert`;

/**
 * A NULL provider, model or client is stored as a zero byte blob, a value no TEXT column of
 * `requests` holds: the group key is then a plain primary key that an upsert can find (NULLs in a
 * key never match each other). An index on IFNULL() expressions did the same at four times the
 * ingest cost; readUsageRollup turns it back into NULL.
 */
const NONE = "X'00'";

/**
 * The group key of a row, from its ts, provider, mapped and requested model, and client. Its
 * hour is ts - ts % 1 h: hour h holds exactly the rows with ts in [h, h + 1 h) (ts is epoch ms,
 * never negative).
 */
const keyOf = (ts: string, provider: string, mapped: string, original: string, client: string) => [
  `${ts} - ${ts} % ${HOUR_MS}`,
  `IFNULL(${provider}, ${NONE})`,
  `IFNULL(COALESCE(${mapped}, ${original}), ${NONE})`,
  `IFNULL(${client}, ${NONE})`,
];

const COLUMNS =
  'hour, provider, model, client, requests, errors, prompt_tokens, completion_tokens, total_tokens, cost';

const ADD = `ON CONFLICT DO UPDATE SET requests = requests + excluded.requests,
  errors = errors + excluded.errors, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
  completion_tokens = completion_tokens + excluded.completion_tokens,
  total_tokens = total_tokens + excluded.total_tokens, cost = cost + excluded.cost`;

/**
 * The counts carry no NOT NULL (they are never NULL: every value is IFNULL'd): an upsert that
 * could fail a NOT NULL check on the columns it updates makes SQLite open a statement journal per
 * row, measured at 30 µs a row, three times the cost of the insert itself.
 */
export const USAGE_DDL = `
CREATE TABLE IF NOT EXISTS ${USAGE_TABLE} (
  hour INTEGER NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  client TEXT NOT NULL,
  requests INTEGER,
  errors INTEGER,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  total_tokens INTEGER,
  cost REAL,
  PRIMARY KEY (hour, provider, model, client)
) WITHOUT ROWID;
`;

function exists(db: Db, type: 'table' | 'trigger', name: string): boolean {
  return db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get(type, name) !== undefined;
}

/** Whether the partition has the rollup table (and so every row counted in it). */
export function hasUsageRollup(db: Db): boolean {
  return exists(db, 'table', USAGE_TABLE);
}

/** The rows grouped by their key, summed: the whole table's content, or what rows add to it. */
function groupedRows(where: string): string {
  const key = keyOf('ts', 'provider', 'model_mapped', 'model_original', 'api_key_hash').join(', ');
  return `SELECT ${key}, COUNT(*), SUM(status_code >= 400), TOTAL(prompt_tokens), TOTAL(completion_tokens),
    TOTAL(total_tokens), TOTAL(cost) FROM requests ${where} GROUP BY 1, 2, 3, 4`;
}

/**
 * Creates the table and fills it from the rows already stored, inside the caller's transaction
 * (so a partition has all of it or none). A no-op where it exists.
 */
export function addUsageRollup(db: Db): void {
  if (hasUsageRollup(db)) return;
  db.exec(USAGE_DDL);
  db.exec(`INSERT INTO ${USAGE_TABLE} (${COLUMNS}) ${groupedRows('')}`);
}

/** Per connection: the upsert, or null where the partition has no rollup table (an old layout). */
const counters = new WeakMap<Db, Database.Statement | null>();

/**
 * The connection's upsert, and whether the insert just made was already counted: the first call
 * on a partition that still has version 3's trigger finds the trigger counted it, and drops it.
 */
function counter(db: Db): { statement: Database.Statement | null; counted: boolean } {
  const cached = counters.get(db);
  if (cached !== undefined) return { statement: cached, counted: false };
  let statement: Database.Statement | null = null;
  let counted = false;
  if (hasUsageRollup(db)) {
    if (exists(db, 'trigger', OLD_TRIGGER)) {
      db.exec(`DROP TRIGGER ${OLD_TRIGGER}`);
      counted = true;
    }
    statement = db.prepare(
      `INSERT INTO ${USAGE_TABLE} (${COLUMNS})
       VALUES (?, ${keyOf('', '?', '?', '?', '?').slice(1).join(', ')}, 1, ? >= 400, IFNULL(?, 0), IFNULL(?, 0),
         IFNULL(?, 0), IFNULL(?, 0.0)) ${ADD}`,
    );
  }
  counters.set(db, statement);
  return { statement, counted };
}

/** The columns of a `requests` row that its usage is counted from. */
export interface CountedRow {
  ts: number;
  provider: string | null;
  model_mapped: string | null;
  model_original: string | null;
  api_key_hash: string | null;
  status_code: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost: number | null;
}

/** Counts one row just inserted into `requests`, in the caller's transaction. */
export function countUsage(db: Db, row: CountedRow): void {
  const { statement, counted } = counter(db);
  if (statement === null || counted) return;
  statement.run(
    row.ts - (row.ts % HOUR_MS),
    row.provider,
    row.model_mapped,
    row.model_original,
    row.api_key_hash,
    row.status_code,
    row.prompt_tokens,
    row.completion_tokens,
    row.total_tokens,
    row.cost,
  );
}

/** Counts the rows of `requests` past rowid `after` (just copied in by a merge). */
export function countUsageAfter(db: Db, after: number): void {
  const { statement, counted } = counter(db);
  if (statement === null || counted) return;
  // The WHERE also settles SQLite's parse of an upsert after a SELECT (its documentation's note).
  db.prepare(`INSERT INTO ${USAGE_TABLE} (${COLUMNS}) ${groupedRows('WHERE rowid > ?')} ${ADD}`).run(after);
}

export interface UsageSums {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
}

export interface UsageRollupRead {
  /** Per bucket: t is its start, epoch ms. */
  series: (UsageSums & { t: number })[];
  /** Per provider, model and client, over all the hours read. */
  groups: (UsageSums & { provider: string | null; model: string | null; client: string | null })[];
}

const SUMS = `SUM(requests) AS requests, SUM(errors) AS errors, TOTAL(prompt_tokens) AS prompt_tokens,
  TOTAL(completion_tokens) AS completion_tokens, TOTAL(total_tokens) AS total_tokens, TOTAL(cost) AS cost`;

/**
 * The usage of the whole hours [fromHour, toHour): per bucket of `bucketMs` (a multiple of an
 * hour; bucket t holds the hours h with trunc(h / bucketMs) = t, as a scan of the rows buckets
 * their ts), and per provider, model and client. Two small aggregates instead of one row per
 * bucket and group: a month by hour is 720 buckets × the groups, measured 5× slower to read.
 */
export function readUsageRollup(db: Db, fromHour: number, toHour: number, bucketMs: number): UsageRollupRead {
  const series = db
    .prepare(
      `SELECT (hour / ${bucketMs}) * ${bucketMs} AS t, ${SUMS} FROM ${USAGE_TABLE}
       WHERE hour >= ? AND hour < ? GROUP BY hour / ${bucketMs}`,
    )
    .all(fromHour, toHour) as UsageRollupRead['series'];
  const groups = db
    .prepare(
      `SELECT NULLIF(provider, ${NONE}) AS provider, NULLIF(model, ${NONE}) AS model,
         NULLIF(client, ${NONE}) AS client, ${SUMS}
       FROM ${USAGE_TABLE} WHERE hour >= ? AND hour < ? GROUP BY provider, model, client`,
    )
    .all(fromHour, toHour) as UsageRollupRead['groups'];
  return { series, groups };
}
