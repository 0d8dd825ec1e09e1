// Hourly usage rollups kept inside each partition (schema version 3): per UTC hour, provider,
// model (the mapped one, else the requested one) and client key hash, the requests, errors,
// tokens and cost of the rows in `requests`. An AFTER INSERT trigger keeps the table in step with
// every insert, whoever makes it (CLI ingest, the in-server ingest, bundle import, merge, the
// sqlite3 shell), so the console's usage page reads a few hundred rows per day instead of every
// request. Rows are never deleted or recounted (prune removes whole partitions, dialog grouping
// only sets dialog_id), so there is no DELETE or UPDATE trigger: each trigger is parsed by every
// open of the partition, and three cost a search over a year's partitions ~100 µs per partition,
// this one ~40 µs.
//
// A partition either has the table, filled and kept by its trigger, or has not (written by an
// older ai-proxy and not yet opened for writing): hasUsageRollup tells readers which, and those
// without it are read from the raw rows.
import type Database from 'better-sqlite3';

type Db = Database.Database;

export const USAGE_TABLE = 'usage_hourly';
export const HOUR_MS = 3_600_000;
const TRIGGER = `${USAGE_TABLE}_insert`;

/**
 * A NULL provider, model or client is stored as a zero byte blob, a value no TEXT column of
 * `requests` holds: the group key is then a plain primary key that an upsert can find (NULLs in a
 * key never match each other). An index on IFNULL() expressions did the same at four times the
 * ingest cost; readUsageRollup turns it back into NULL.
 */
const NONE = "X'00'";

/**
 * The key and the counts of one row `r`. Its hour is ts - ts % 1 h: hour h holds exactly the rows
 * with ts in [h, h + 1 h) (ts is epoch ms, never negative).
 */
const rowOf = (r: string) => [
  `${r}.ts - ${r}.ts % ${HOUR_MS}`,
  `IFNULL(${r}.provider, ${NONE})`,
  `IFNULL(COALESCE(${r}.model_mapped, ${r}.model_original), ${NONE})`,
  `IFNULL(${r}.api_key_hash, ${NONE})`,
];

const COLUMNS =
  'hour, provider, model, client, requests, errors, prompt_tokens, completion_tokens, total_tokens, cost';

/**
 * The counts carry no NOT NULL (they are never NULL: every value is IFNULL'd): an upsert that
 * could fail a NOT NULL check on the columns it updates makes SQLite open a statement journal per
 * row, measured at 30 µs a row, three times the cost of the insert itself. With this table and
 * trigger, an insert costs ~1-2 µs more (bench/logstore/run.mjs: within its noise).
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
CREATE TRIGGER IF NOT EXISTS ${TRIGGER} AFTER INSERT ON requests BEGIN
  INSERT INTO ${USAGE_TABLE} (${COLUMNS}) VALUES (${rowOf('new').join(', ')}, 1, new.status_code >= 400,
    IFNULL(new.prompt_tokens, 0), IFNULL(new.completion_tokens, 0), IFNULL(new.total_tokens, 0), IFNULL(new.cost, 0.0))
  ON CONFLICT DO UPDATE SET requests = requests + 1, errors = errors + excluded.errors,
    prompt_tokens = prompt_tokens + excluded.prompt_tokens,
    completion_tokens = completion_tokens + excluded.completion_tokens,
    total_tokens = total_tokens + excluded.total_tokens, cost = cost + excluded.cost;
END;
`;

/**
 * Whether the partition has the table and the trigger that keeps it. A table without its trigger
 * (a rebuild of `requests` drops the triggers on it) no longer counts the rows.
 */
export function hasUsageRollup(db: Db): boolean {
  const row = db
    .prepare(
      "SELECT COUNT(*) AS n FROM sqlite_master WHERE (type = 'table' AND name = ?) OR (type = 'trigger' AND name = ?)",
    )
    .get(USAGE_TABLE, TRIGGER) as { n: number };
  return row.n === 2;
}

/**
 * Creates the table and its trigger and fills it from the rows already stored, inside the
 * caller's transaction (so a partition has all of it or none). A no-op where both exist; a table
 * whose trigger is gone is filled again.
 */
export function addUsageRollup(db: Db): void {
  if (hasUsageRollup(db)) return;
  db.exec(`DROP TABLE IF EXISTS ${USAGE_TABLE}`);
  db.exec(USAGE_DDL);
  db.exec(`INSERT INTO ${USAGE_TABLE} (${COLUMNS})
    SELECT ${rowOf('requests').join(', ')}, COUNT(*), SUM(status_code >= 400),
      TOTAL(prompt_tokens), TOTAL(completion_tokens), TOTAL(total_tokens), TOTAL(cost)
    FROM requests GROUP BY 1, 2, 3, 4`);
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
