// Full-text search over the partitions' FTS5 indexes (SPEC §8): the FTS5 query language as is
// (terms, "phrases", prefix*, NEAR(a b, 5), AND/OR/NOT, column:term), newest first, filtered by
// time, model and status, each hit with a highlighted snippet and the request id that maps back to
// the full request (`logs show ID`). Partitions are read newest first, one open at a time, and the
// walk stops at the limit; a partition whose index has no match costs one small statement.
import { listPartitions } from './partitions.js';
import { type Db, FTS_TABLE, openPartitionToRead, type RequestRow } from './schema.js';

export interface SearchOptions {
  dbRoot: string;
  query: string;
  since?: Date;
  to?: Date;
  model?: string;
  status?: number;
  limit: number;
  /** Marks around matched terms in the snippet. */
  highlight?: [string, string];
}

export interface SearchHit {
  request_id: string;
  time: string;
  model: string | null;
  model_mapped: string | null;
  provider: string | null;
  status: number;
  dialog_id: string | null;
  snippet: string;
  partition: string;
}

export interface SearchResult {
  hits: SearchHit[];
  partitionsSearched: number;
  /** Partitions in range without an FTS index (run `logs fts build`). */
  partitionsWithoutIndex: string[];
}

export class SearchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchError';
  }
}

const DAY_MS = 86_400_000;

const TERM = String.raw`("[^"]*"|[^\s()"]+)`;
const FTS4_NEAR = new RegExp(`${TERM}\\s+NEAR(?:/(\\d+))?\\s+${TERM}`, 'g');

/**
 * The seed writes proximity the FTS3/4 way (`timeout NEAR/3 retry`); FTS5 spells it
 * `NEAR(timeout retry, 3)`. The old form is rewritten, everything else passes through.
 */
export function translateQuery(query: string): string {
  return query.replace(FTS4_NEAR, (_m, a: string, distance: string | undefined, b: string) =>
    distance === undefined ? `NEAR(${a} ${b})` : `NEAR(${a} ${b}, ${distance})`,
  );
}

/**
 * Whether the partition's index matches the (translated) query at all, undefined when it has no
 * index: one cheap statement (no join, no snippet), so a query over a year prepares the full one
 * only in the partitions that can answer. The console's search can use it the same way.
 */
export function anyMatch(db: Db, query: string): boolean | undefined {
  let statement: ReturnType<Db['prepare']>;
  try {
    statement = db.prepare(`SELECT rowid FROM ${FTS_TABLE} WHERE ${FTS_TABLE} MATCH ? LIMIT 1`);
  } catch (error) {
    // No index in this partition (run `logs fts build`); anything else is a real failure.
    if (error instanceof Error && error.message === `no such table: ${FTS_TABLE}`) return undefined;
    throw error;
  }
  try {
    return statement.get(query) !== undefined;
  } catch (error) {
    if (error instanceof Error && error.name === 'SqliteError') {
      throw new SearchError(`bad search query ${JSON.stringify(query)}: ${error.message}`);
    }
    throw error;
  }
}

function searchPartition(db: Db, options: SearchOptions, limit: number, path: string): SearchHit[] {
  const [open, close] = options.highlight ?? ['[', ']'];
  const where = [`${FTS_TABLE} MATCH @query`];
  const params: Record<string, unknown> = { query: translateQuery(options.query), limit, open, close };
  if (options.since !== undefined) {
    where.push('r.ts >= @since');
    params.since = options.since.getTime();
  }
  if (options.to !== undefined) {
    where.push('r.ts < @until');
    params.until = options.to.getTime() + DAY_MS;
  }
  if (options.model !== undefined) {
    where.push('(r.model_original = @model OR r.model_mapped = @model)');
    params.model = options.model;
  }
  if (options.status !== undefined) {
    where.push('r.status_code = @status');
    params.status = options.status;
  }
  // FTS rowids are the requests' rowids, in ingest (≈ time) order: newest first without a sort.
  const sql = `SELECT r.request_id, r.time, r.model_original AS model, r.model_mapped, r.provider,
      r.status_code AS status, r.dialog_id,
      snippet(${FTS_TABLE}, -1, @open, @close, '…', 16) AS snippet
    FROM ${FTS_TABLE} JOIN requests r ON r.rowid = ${FTS_TABLE}.rowid
    WHERE ${where.join(' AND ')}
    ORDER BY ${FTS_TABLE}.rowid DESC LIMIT @limit`;
  try {
    return (db.prepare(sql).all(params) as Omit<SearchHit, 'partition'>[]).map((hit) => ({
      ...hit,
      partition: path,
    }));
  } catch (error) {
    // The query is the only thing the user controls here: SQLite's complaint is about it.
    if (error instanceof Error && error.name === 'SqliteError') {
      throw new SearchError(`bad search query ${JSON.stringify(options.query)}: ${error.message}`);
    }
    throw error;
  }
}

export function search(options: SearchOptions): SearchResult {
  if (options.query.trim() === '') throw new SearchError('the search query is empty');
  const partitions = listPartitions(options.dbRoot, options.since, options.to).reverse();
  const query = translateQuery(options.query);
  const hits: SearchHit[] = [];
  const withoutIndex: string[] = [];
  let searched = 0;
  for (const partition of partitions) {
    if (hits.length >= options.limit) break;
    const db = openPartitionToRead(partition.path);
    if (db === undefined) continue;
    try {
      const matched = anyMatch(db, query);
      if (matched === undefined) {
        withoutIndex.push(partition.path);
        continue;
      }
      searched += 1;
      if (!matched) continue;
      hits.push(...searchPartition(db, options, options.limit - hits.length, partition.path));
    } finally {
      db.close();
    }
  }
  return { hits, partitionsSearched: searched, partitionsWithoutIndex: withoutIndex };
}

/** The full stored request, found by id across the partitions (newest first). */
export function findRequest(
  dbRoot: string,
  requestId: string,
): { row: RequestRow; partition: string } | undefined {
  for (const partition of listPartitions(dbRoot).reverse()) {
    const db = openPartitionToRead(partition.path);
    if (db === undefined) continue;
    try {
      const row = db.prepare('SELECT * FROM requests WHERE request_id = ?').get(requestId) as
        | RequestRow
        | undefined;
      if (row !== undefined) return { row, partition: partition.path };
    } finally {
      db.close();
    }
  }
  return undefined;
}
