// Hourly usage rollups kept inside each partition (schema version 3): per UTC hour, provider,
// model (the mapped one, else the requested one) and client key hash, the requests, errors,
// tokens and cost of the rows in `requests`. SQLite triggers keep the table in step with every
// write to `requests`, whoever makes it (CLI ingest, the in-server ingest, bundle import, merge,
// the sqlite3 shell), so the console's usage page reads a few hundred rows per day instead of
// every request.
//
// A partition either has the table, filled and kept by its triggers, or has not (written by an
// older ai-proxy and not yet opened for writing): hasUsageRollup tells readers which, and those
// without it are read from the raw rows.
import type Database from 'better-sqlite3';

type Db = Database.Database;

export const USAGE_TABLE = 'usage_hourly';
export const HOUR_MS = 3_600_000;

/** The hour a row counts in: floor(ts / 1 h), so hour h holds exactly the rows with ts in [h, h + 1 h). */
const hourOf = (ts: string): string => `(${ts} - ((${ts} % ${HOUR_MS}) + ${HOUR_MS}) % ${HOUR_MS})`;

/**
 * A NULL provider, model or client is stored as a zero byte blob, a value no TEXT column of
 * `requests` holds: the group key is then a plain primary key that an upsert can find (NULLs in a
 * key never match each other). An index on IFNULL() expressions did the same at four times the
 * ingest cost; readUsageRollup turns it back into NULL.
 */
const NONE = "X'00'";

const keyOf = (r: string) => ({
  hour: hourOf(`${r}.ts`),
  provider: `IFNULL(${r}.provider, ${NONE})`,
  model: `IFNULL(COALESCE(${r}.model_mapped, ${r}.model_original), ${NONE})`,
  client: `IFNULL(${r}.api_key_hash, ${NONE})`,
});

/** Adds (sign 1) or removes (sign -1) one row's usage. */
function apply(r: 'new' | 'old', sign: 1 | -1): string {
  const k = keyOf(r);
  const s = sign === 1 ? '+' : '-';
  const upsert = `INSERT INTO ${USAGE_TABLE} (hour, provider, model, client, requests, errors,
      prompt_tokens, completion_tokens, total_tokens, cost)
    VALUES (${k.hour}, ${k.provider}, ${k.model}, ${k.client}, ${sign}, ${sign} * (${r}.status_code >= 400),
      ${sign} * IFNULL(${r}.prompt_tokens, 0), ${sign} * IFNULL(${r}.completion_tokens, 0),
      ${sign} * IFNULL(${r}.total_tokens, 0), ${sign} * IFNULL(${r}.cost, 0.0))
    ON CONFLICT DO UPDATE SET
      requests = requests ${s} 1,
      errors = errors ${s} (${r}.status_code >= 400),
      prompt_tokens = prompt_tokens ${s} IFNULL(${r}.prompt_tokens, 0),
      completion_tokens = completion_tokens ${s} IFNULL(${r}.completion_tokens, 0),
      total_tokens = total_tokens ${s} IFNULL(${r}.total_tokens, 0),
      cost = cost ${s} IFNULL(${r}.cost, 0.0);`;
  if (sign === 1) return upsert;
  // A group left with no rows goes, so the table holds what a scan of the rows would find.
  return `${upsert}
    DELETE FROM ${USAGE_TABLE} WHERE requests = 0 AND hour = ${k.hour} AND provider = ${k.provider}
      AND model = ${k.model} AND client = ${k.client};`;
}

/** The columns an update must touch to move a row's usage (dialog grouping touches none). */
const COUNTED =
  'ts, provider, model_mapped, model_original, api_key_hash, status_code, prompt_tokens, completion_tokens, total_tokens, cost';

/**
 * The counts are never NULL (every value is IFNULL'd) but carry no NOT NULL: an upsert that could
 * fail a NOT NULL check on the columns it updates makes SQLite open a statement journal per row,
 * measured at 30 µs a row, three times the cost of the insert itself.
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
CREATE TRIGGER IF NOT EXISTS ${USAGE_TABLE}_insert AFTER INSERT ON requests BEGIN
  ${apply('new', 1)}
END;
CREATE TRIGGER IF NOT EXISTS ${USAGE_TABLE}_delete AFTER DELETE ON requests BEGIN
  ${apply('old', -1)}
END;
CREATE TRIGGER IF NOT EXISTS ${USAGE_TABLE}_update AFTER UPDATE OF ${COUNTED} ON requests BEGIN
  ${apply('old', -1)}
  ${apply('new', 1)}
END;
`;

export function hasUsageRollup(db: Db, schema = 'main'): boolean {
  return (
    db.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).get(USAGE_TABLE) !==
    undefined
  );
}

/**
 * Creates the table and its triggers and fills it from the rows already stored, inside the
 * caller's transaction (so a partition has all of it or none). A no-op where it exists.
 */
export function addUsageRollup(db: Db): void {
  if (hasUsageRollup(db)) return;
  db.exec(USAGE_DDL);
  const k = keyOf('requests');
  db.exec(`INSERT INTO ${USAGE_TABLE} (hour, provider, model, client, requests, errors,
      prompt_tokens, completion_tokens, total_tokens, cost)
    SELECT ${k.hour}, ${k.provider}, ${k.model}, ${k.client}, COUNT(*), SUM(status_code >= 400),
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
