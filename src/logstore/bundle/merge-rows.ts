// Merges one partition file's rows into a log store, idempotently: rows are inserted with
// INSERT OR IGNORE on the schema's key (request_id), so importing the same bundle twice, or
// bundles from two servers that share rows, never duplicates one. Each row lands in the
// destination's own partition for its time, so a weekly store can take a daily bundle and back.

import { storedSelect } from '../derived-columns.js';
import { createFts, indexRowsAfter } from '../fts.js';
import { DAY_MS, type Granularity, partitionKey, partitionPath, partitionRange } from '../partitions.js';
import {
  type Db,
  FTS_TABLE,
  hasFtsIndex,
  openPartition,
  REQUEST_COLUMNS,
  SCHEMA_VERSION,
  SchemaVersionError,
} from '../schema.js';
import { countUsageAfter } from '../usage-rollup.js';
import { BundleError } from './errors.js';

export interface MergeCounts {
  /** Rows in the source. */
  rows: number;
  /** Rows that were new to the destination. */
  inserted: number;
  /**
   * Rows skipped because the destination holds the same request id from another server. Ids carry
   * 48 random bits per process, so this should stay 0; when it does not, it is reported, not hidden.
   */
  conflicts: number;
}

const SERVER_COLUMNS = ['server_id', 'hostname', 'environment', 'created_at', 'first_seen_ts'];

/** Every column, generated ones included (a version 4 partition derives `time` and `usage_json`). */
function columnsOf(db: Db, schema: string, table: string): Set<string> {
  const rows = db.prepare(`PRAGMA ${schema}.table_xinfo(${table})`).all() as { name: string }[];
  return new Set(rows.map((row) => row.name));
}

/** Checks the attached source is a partition this version can read. */
function checkSource(db: Db, label: string): Set<string> {
  const tables = new Set(
    (db.prepare("SELECT name FROM src.sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (row) => row.name,
    ),
  );
  if (!tables.has('requests')) throw new BundleError(`${label}: not a log partition (no requests table)`);
  if (tables.has('meta')) {
    const row = db.prepare("SELECT value FROM src.meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    const version = Number(row?.value ?? 0);
    if (version > SCHEMA_VERSION) {
      throw new BundleError(
        `${label}: schema version ${version} is newer than this ai-proxy understands (${SCHEMA_VERSION})`,
      );
    }
  }
  const columns = columnsOf(db, 'src', 'requests');
  if (!columns.has('request_id') || !columns.has('ts')) {
    throw new BundleError(`${label}: requests table lacks request_id or ts`);
  }
  return columns;
}

function sourceHasFts(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM src.sqlite_master WHERE type = 'table' AND name = ?").get(FTS_TABLE) !==
    undefined
  );
}

function copyRows(
  dest: Db,
  source: string,
  label: string,
  where: string,
  params: number[],
  fts: boolean | undefined,
): MergeCounts {
  dest.prepare('ATTACH DATABASE ? AS src').run(source);
  try {
    const sourceColumns = checkSource(dest, label);
    // Read by their names from either layout, written in the destination's (derived-columns.ts).
    const { into, select } = storedSelect(REQUEST_COLUMNS.filter((c) => sourceColumns.has(c)));
    const serverColumns = columnsOf(dest, 'src', 'servers');
    const shared = SERVER_COLUMNS.filter((c) => serverColumns.has(c)).join(', ');
    // Searchable stays searchable: the destination indexes what it takes in when it already has an
    // index, when the source had one, or when asked to.
    const index = fts !== false && (fts === true || hasFtsIndex(dest) || sourceHasFts(dest));
    return dest.transaction(() => {
      if (shared !== '') {
        dest.exec(`INSERT OR IGNORE INTO main.servers (${shared}) SELECT ${shared} FROM src.servers`);
      }
      const { last } = dest.prepare('SELECT COALESCE(MAX(rowid), 0) AS last FROM main.requests').get() as {
        last: number;
      };
      const result = dest
        .prepare(`INSERT OR IGNORE INTO main.requests (${into}) SELECT ${select} FROM src.requests ${where}`)
        .run(...params);
      if (result.changes > 0) countUsageAfter(dest, last);
      if (index) {
        createFts(dest);
        if (result.changes > 0) indexRowsAfter(dest, last, 'main.requests');
      }
      const { n } = dest.prepare(`SELECT COUNT(*) AS n FROM src.requests ${where}`).get(...params) as {
        n: number;
      };
      const { c } = dest
        .prepare(
          `SELECT COUNT(*) AS c FROM (SELECT request_id, server_id FROM src.requests ${where}) AS s
           JOIN main.requests AS m ON m.request_id = s.request_id WHERE m.server_id IS NOT s.server_id`,
        )
        .get(...params) as { c: number };
      return { rows: n, inserted: result.changes, conflicts: c };
    })();
  } finally {
    dest.exec('DETACH DATABASE src');
  }
}

/** Merges every row of `source` into one destination file (used by `logs merge`). */
export function mergeIntoFile(dest: Db, source: string, label = source, fts?: boolean): MergeCounts {
  return copyRows(dest, source, label, '', [], fts);
}

/** The destination partitions the source's rows fall into, by the rows' own times. */
function targetKeys(source: string, label: string, granularity: Granularity): string[] {
  let db: Db | undefined;
  try {
    db = openPartition(source, { readonly: true });
    // The days that hold rows (ts is epoch ms, UTC), so no empty partition is created.
    const days = db.prepare(`SELECT DISTINCT ts / ${DAY_MS} AS day FROM requests ORDER BY day`).all() as {
      day: number;
    }[];
    const keys: string[] = [];
    for (const { day } of days) {
      const key = partitionKey(new Date(day * DAY_MS), granularity);
      if (!keys.includes(key)) keys.push(key);
    }
    return keys;
  } catch (error) {
    if (error instanceof BundleError || error instanceof SchemaVersionError) throw error;
    throw new BundleError(`${label}: cannot read as a log partition (${(error as Error).message})`);
  } finally {
    db?.close();
  }
}

/**
 * Merges a partition file into the store under `root`, splitting its rows over the destination's
 * partitions. Returns the counts and the partition files touched.
 */
export function mergeIntoStore(
  root: string,
  source: string,
  granularity: Granularity,
  label = source,
  fts?: boolean,
): MergeCounts & { partitions: string[] } {
  const total: MergeCounts & { partitions: string[] } = {
    rows: 0,
    inserted: 0,
    conflicts: 0,
    partitions: [],
  };
  for (const key of targetKeys(source, label, granularity)) {
    const { start, end } = partitionRange(key);
    const path = partitionPath(root, start, granularity);
    const dest = openPartition(path);
    try {
      const counts = copyRows(
        dest,
        source,
        label,
        'WHERE ts >= ? AND ts < ?',
        [start.getTime(), end.getTime()],
        fts,
      );
      total.rows += counts.rows;
      total.inserted += counts.inserted;
      total.conflicts += counts.conflicts;
      total.partitions.push(path);
    } finally {
      dest.close();
    }
  }
  return total;
}
