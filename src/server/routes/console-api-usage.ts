// The console's usage history, read from the log store: requests, tokens, cost and errors per hour
// or day, and the same totals by provider, model and client key, over a time range. The whole
// hours inside the range come from each partition's hourly rollups (usage-rollup.ts), and only
// the part hours at the range's edges from the rows; a partition written before the rollups
// existed is scanned (one GROUP BY over its rows). The two give the same answer.
import { listPartitions, type PartitionInfo } from '../../logstore/partitions.js';
import { type Db, openPartitionToRead } from '../../logstore/schema.js';
import { HOUR_MS, hasUsageRollup, readUsageRollup } from '../../logstore/usage-rollup.js';

import type { Bucket, GroupTotals, SeriesPoint, Totals, UsageHistory } from './console-api-types.js';

export type { Bucket, GroupTotals, SeriesPoint, Totals, UsageHistory };

const BUCKET_MS: Record<Bucket, number> = { hour: 3_600_000, day: 86_400_000 };

const SUMS = `COUNT(*) AS requests, SUM(status_code >= 400) AS errors,
  TOTAL(prompt_tokens) AS prompt_tokens, TOTAL(completion_tokens) AS completion_tokens,
  TOTAL(total_tokens) AS total_tokens, TOTAL(cost) AS cost`;

function empty(): Totals {
  return { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0 };
}

function add(into: Totals, row: Totals): void {
  into.requests += row.requests;
  into.errors += row.errors ?? 0;
  into.prompt_tokens += row.prompt_tokens;
  into.completion_tokens += row.completion_tokens;
  into.total_tokens += row.total_tokens;
  into.cost += row.cost;
}

function rounded<T extends Totals>(totals: T): T {
  return { ...totals, cost: Math.round(totals.cost * 1e6) / 1e6 };
}

function addTo(map: Map<string | null, Totals>, key: string | null, row: Totals): void {
  let totals = map.get(key);
  if (totals === undefined) {
    totals = empty();
    map.set(key, totals);
  }
  add(totals, row);
}

function sorted(map: Map<string | null, Totals>): GroupTotals[] {
  return [...map]
    .map(([name, totals]) => rounded({ name, ...totals }))
    .sort((a, b) => b.requests - a.requests || b.cost - a.cost);
}

/** Every bucket in [since, until), zeros included, so a chart's axis has no gaps. */
function filledSeries(
  buckets: Map<number, Totals>,
  since: number,
  until: number,
  size: number,
): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let t = Math.floor(since / size) * size; t < until; t += size) {
    out.push(rounded({ t: t / 1000, ...(buckets.get(t) ?? empty()) }));
  }
  return out;
}

interface Group extends Totals {
  provider: string | null;
  model: string | null;
  client: string | null;
}

/** The sums so far: per bucket, and per provider, model and client (with the totals). */
class Sums {
  readonly totals = empty();
  readonly buckets = new Map<number, Totals>();
  readonly providers = new Map<string | null, Totals>();
  readonly models = new Map<string | null, Totals>();
  readonly clients = new Map<string | null, Totals>();

  bucket(row: Totals & { t: number }): void {
    let point = this.buckets.get(row.t);
    if (point === undefined) {
      point = empty();
      this.buckets.set(row.t, point);
    }
    add(point, row);
  }

  group(row: Group): void {
    add(this.totals, row);
    addTo(this.providers, row.provider, row);
    addTo(this.models, row.model, row);
    addTo(this.clients, row.client, row);
  }
}

/**
 * One scan of the rows with ts in [from, to), grouped by every dimension at once: four GROUP BYs
 * over the same rows measured four times the time. The groups (buckets × providers × models ×
 * clients) are few next to the rows.
 */
function scanRows(db: Db, sums: Sums, from: number, to: number, size: number, wholePartition: boolean): void {
  // A partition wholly inside the range is read straight through (sequential pages); the ts index
  // would add a lookup per row, measured at twice the time. A partly covered one uses the index.
  const rows = db
    .prepare(
      `SELECT (ts / ${size}) * ${size} AS t, provider, COALESCE(model_mapped, model_original) AS model,
         api_key_hash AS client, ${SUMS} FROM requests ${wholePartition ? 'NOT INDEXED' : ''}
       WHERE ts >= ? AND ts < ? GROUP BY 1, 2, 3, 4`,
    )
    .all(from, to) as (Group & { t: number })[];
  for (const row of rows) {
    sums.bucket(row);
    sums.group(row);
  }
}

/**
 * Adds a partition's usage in [since, until): rollups for the whole hours, rows for the part hours
 * at the edges. Nothing is clipped to the partition's days, so a row filed outside them counts as
 * the scan counts it.
 */
function addPartition(
  db: Db,
  sums: Sums,
  partition: PartitionInfo,
  range: { since: number; until: number; size: number; rollups: boolean },
): void {
  const { since, until, size } = range;
  const firstHour = Math.ceil(since / HOUR_MS) * HOUR_MS;
  const endHour = Math.floor(until / HOUR_MS) * HOUR_MS;
  if (!range.rollups || firstHour >= endHour || !hasUsageRollup(db)) {
    const whole = since <= partition.start.getTime() && until >= partition.end.getTime();
    scanRows(db, sums, since, until, size, whole);
    return;
  }
  const read = readUsageRollup(db, firstHour, endHour, size);
  for (const row of read.series) sums.bucket(row);
  for (const row of read.groups) sums.group(row);
  if (since < firstHour) scanRows(db, sums, since, firstHour, size, false);
  if (endHour < until) scanRows(db, sums, endHour, until, size, false);
}

export interface UsageOptions {
  /** false reads every row, never the rollups (the reference the rollups are tested against). */
  rollups?: boolean;
}

export function usageHistory(
  dbRoot: string,
  since: number,
  until: number,
  bucket: Bucket,
  options: UsageOptions = {},
): UsageHistory {
  const size = BUCKET_MS[bucket];
  const sums = new Sums();
  const range = { since, until, size, rollups: options.rollups !== false };
  const partitions = listPartitions(dbRoot, new Date(since), new Date(until));
  for (const partition of partitions) {
    const db = openPartitionToRead(partition.path);
    if (db === undefined) continue;
    try {
      addPartition(db, sums, partition, range);
    } finally {
      db.close();
    }
  }
  return {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    bucket,
    partitions: partitions.length,
    totals: rounded(sums.totals),
    series: filledSeries(sums.buckets, since, until, size),
    by_provider: sorted(sums.providers),
    by_model: sorted(sums.models),
    by_client: sorted(sums.clients),
  };
}
