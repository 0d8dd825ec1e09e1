// The console's log-store queries: search (the FTS5 language of `ai-proxy logs search`, or no text
// to browse) with filters for date range, model, provider, status, client key and dialog, newest
// first, paged by a cursor (partition + rowid, so page 100 costs what page 1 does); one exchange
// in full; a dialog's exchanges in order. A text search walks the partitions as `ai-proxy logs
// search` does (search.ts): newest first, one open at a time, a partition whose index cannot match
// skipped after one small statement (anyMatch), stopping once the page is full.
import { listPartitions, type PartitionInfo } from '../../logstore/partitions.js';
import { type Db, FTS_TABLE, openPartitionToRead, type RequestRow } from '../../logstore/schema.js';
import { anyMatch, SearchError, translateQuery } from '../../logstore/search.js';
import type { LogHit, LogPage } from './console-api-types.js';

export type { LogHit, LogPage };

export interface LogFilters {
  query?: string;
  since?: Date;
  /** Inclusive: the whole day. */
  to?: Date;
  model?: string;
  provider?: string;
  status?: number;
  client?: string;
  dialog?: string;
}

/** A query the user wrote that SQLite refused: the message names it. */
export class LogQueryError extends Error {}

const DAY_MS = 86_400_000;
/** Marks around matched words: control characters that never occur in text and survive JSON. */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

const HIT_COLUMNS = `r.request_id, r.time, r.endpoint, r.model_original AS model, r.model_mapped, r.provider,
  r.status_code AS status, r.latency_ms, r.stream, r.prompt_tokens, r.completion_tokens, r.cost,
  r.api_key_hash AS client, r.dialog_id`;

interface Cursor {
  partition: string;
  rowid: number;
}

function parseCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined || text === '') return undefined;
  const match = /^([0-9W]{7,8}):(\d{1,15})$/.exec(text);
  if (match === null) throw new LogQueryError(`bad cursor ${JSON.stringify(text)}`);
  return { partition: match[1]!, rowid: Number(match[2]) };
}

function whereOf(filters: LogFilters, params: Record<string, unknown>): string[] {
  const where: string[] = [];
  if (filters.since !== undefined) {
    where.push('r.ts >= @since');
    params.since = filters.since.getTime();
  }
  if (filters.to !== undefined) {
    where.push('r.ts < @until');
    params.until = filters.to.getTime() + DAY_MS;
  }
  if (filters.model !== undefined) {
    where.push('(r.model_original = @model OR r.model_mapped = @model)');
    params.model = filters.model;
  }
  const exact: [keyof LogFilters, string][] = [
    ['provider', 'r.provider'],
    ['status', 'r.status_code'],
    ['client', 'r.api_key_hash'],
    ['dialog', 'r.dialog_id'],
  ];
  for (const [field, column] of exact) {
    if (filters[field] === undefined) continue;
    where.push(`${column} = @${field}`);
    params[field] = filters[field];
  }
  return where;
}

type HitRow = Omit<LogHit, 'stream' | 'snippet'> & { stream: number; rowid: number; snippet?: string | null };

function pagePartition(db: Db, filters: LogFilters, limit: number, before: number | undefined): HitRow[] {
  const params: Record<string, unknown> = { limit };
  const where = whereOf(filters, params);
  const text = filters.query !== undefined;
  if (text) {
    where.unshift(`${FTS_TABLE} MATCH @query`);
    params.query = translateQuery(filters.query!);
    params.open = MARK_OPEN;
    params.close = MARK_CLOSE;
  }
  if (before !== undefined) {
    where.push('r.rowid < @before');
    params.before = before;
  }
  const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  // Rowids follow ingest order (≈ time): newest first is a walk backwards, no sort.
  const sql = text
    ? `SELECT r.rowid, ${HIT_COLUMNS},
         snippet(${FTS_TABLE}, -1, @open, @close, '…', 20) AS snippet
       FROM ${FTS_TABLE} JOIN requests r ON r.rowid = ${FTS_TABLE}.rowid ${clause}
       ORDER BY ${FTS_TABLE}.rowid DESC LIMIT @limit`
    : `SELECT r.rowid, ${HIT_COLUMNS}, r.request_json FROM requests r ${clause}
       ORDER BY r.rowid DESC LIMIT @limit`;
  try {
    return db.prepare(sql).all(params) as HitRow[];
  } catch (error) {
    if (error instanceof Error && error.name === 'SqliteError') {
      throw new LogQueryError(`bad search query ${JSON.stringify(filters.query)}: ${error.message}`);
    }
    throw error;
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join(' ');
}

/** The start of the request's last user message, in any of the dialects' shapes. */
export function requestPreview(requestJson: string | null | undefined): string | null {
  if (requestJson === null || requestJson === undefined || requestJson.length > 2_000_000) return null;
  let body: unknown;
  try {
    body = JSON.parse(requestJson);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const { messages, input, prompt } = body as { messages?: unknown; input?: unknown; prompt?: unknown };
  let text = '';
  const list = Array.isArray(messages) ? messages : Array.isArray(input) ? input : undefined;
  if (list !== undefined) {
    for (let i = list.length - 1; i >= 0 && text === ''; i--) {
      const message = list[i] as { role?: unknown; content?: unknown };
      if (message?.role === 'user') text = textOf(message.content);
    }
  } else if (typeof input === 'string') text = input;
  else if (typeof prompt === 'string') text = prompt;
  text = text.replace(/\s+/g, ' ').trim();
  return text === '' ? null : text.slice(0, 200);
}

/** anyMatch, its complaint about the query told in the words the user wrote. */
function anyWord(db: Db, query: string, written: string): boolean | undefined {
  try {
    return anyMatch(db, query);
  } catch (error) {
    if (error instanceof SearchError) {
      const prefix = `bad search query ${JSON.stringify(query)}: `;
      const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      throw new LogQueryError(`bad search query ${JSON.stringify(written)}: ${reason}`);
    }
    throw error;
  }
}

function partitionsNewestFirst(dbRoot: string, filters: LogFilters): PartitionInfo[] {
  return listPartitions(dbRoot, filters.since, filters.to).reverse();
}

export function searchLogs(dbRoot: string, filters: LogFilters, limit: number, cursorText?: string): LogPage {
  const started = performance.now();
  const cursor = parseCursor(cursorText);
  const rows: (HitRow & { partition: string })[] = [];
  let searched = 0;
  let withoutIndex = 0;
  let reached = cursor === undefined;
  const query = filters.query === undefined ? undefined : translateQuery(filters.query);
  for (const partition of partitionsNewestFirst(dbRoot, filters)) {
    if (!reached) {
      if (partition.key !== cursor!.partition) continue;
      reached = true;
    }
    if (rows.length > limit) break;
    const db = openPartitionToRead(partition.path);
    if (db === undefined) continue;
    try {
      const matched = query === undefined ? true : anyWord(db, query, filters.query!);
      if (matched === undefined) {
        withoutIndex += 1;
        continue;
      }
      searched += 1;
      if (!matched) continue;
      const before = cursor !== undefined && partition.key === cursor.partition ? cursor.rowid : undefined;
      // One more than asked: whether a next page exists is known without an empty last page.
      for (const row of pagePartition(db, filters, limit + 1 - rows.length, before)) {
        rows.push({ ...row, partition: partition.key });
      }
    } finally {
      db.close();
    }
  }
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    hits: page.map(({ rowid: _rowid, partition: _p, stream, snippet, ...row }) => {
      const { request_json, ...rest } = row as typeof row & { request_json?: string | null };
      return {
        ...rest,
        stream: stream === 1,
        snippet: snippet ?? requestPreview(request_json),
      };
    }),
    next_cursor: more && last !== undefined ? `${last.partition}:${last.rowid}` : null,
    partitions_searched: searched,
    partitions_without_index: withoutIndex,
    ms: Math.round((performance.now() - started) * 10) / 10,
  };
}

function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A stored row with its JSON columns as values, as `ai-proxy logs show` prints it. */
export function exchangeView(row: RequestRow): Record<string, unknown> {
  const { request_json, response_json, error_json, attempts_json, usage_json, api_key_hash, ...rest } = row;
  return {
    ...rest,
    client: api_key_hash,
    stream: row.stream === 1,
    request: parsed(request_json),
    response: parsed(response_json),
    error: parsed(error_json),
    attempts: parsed(attempts_json),
    usage: parsed(usage_json),
  };
}

/** A dialog's exchanges in time order, across partitions (at most `limit`). */
export function dialogRows(dbRoot: string, dialogId: string, limit: number): RequestRow[] {
  const rows: RequestRow[] = [];
  for (const partition of listPartitions(dbRoot)) {
    if (rows.length >= limit) break;
    const db = openPartitionToRead(partition.path);
    if (db === undefined) continue;
    try {
      rows.push(
        ...(db
          .prepare('SELECT * FROM requests WHERE dialog_id = ? ORDER BY ts, request_id LIMIT ?')
          .all(dialogId, limit - rows.length) as RequestRow[]),
      );
    } finally {
      db.close();
    }
  }
  return rows;
}
