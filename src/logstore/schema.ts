// The log store's SQLite schema (SPEC §8, seed 002) and the two ways into a partition.
//
// API (kept stable; the bundle code builds on it):
//   SCHEMA_VERSION                       the version written to `meta.schema_version` of every partition
//   SCHEMA_DDL                           tables servers, requests, ingest_sources, meta and indexes
//                                        (`time` and `usage_json` are derived when a row would
//                                        only repeat them: derived-columns.ts)
//   FTS_DDL / FTS_TABLE                  the FTS5 `request_text_index` (built on demand: `logs fts build`),
//                                        external content over the rows' own JSON (fts-content.ts)
//   REQUEST_COLUMNS                      the `requests` columns a row is read and written by
//   openPartition(path, {readonly?})     opens (creating folders and file if needed) a partition with
//                                        WAL and the schema applied (an older one migrated); refuses a
//                                        newer schema version
//   readSchemaVersion(db)                the partition's schema version (0 when unset)
//   hasFtsIndex(db)                      whether `request_text_index` exists in this partition
//   insertRequest(db, row) → boolean     INSERT OR IGNORE by request_id: true when the row is new;
//                                        running it twice (or merging two copies) never duplicates
//   insertRequestRowid(db, row)          the same, returning the new rowid (undefined when known)
//   upsertServer(db, server)             records a server's identity (first writer keeps created_at)
//   rowFromRecord(record, bodies?) → RequestRow  one JSONL RequestRecord as a `requests` row
//
// Times: `ts` is epoch milliseconds (UTC) for ordering and ranges; `time` keeps the record's ISO text.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { RequestRecord } from '../logs/request-record.js';
import { readUsage } from '../usage/cost.js';
import {
  DERIVED_COLUMNS_DDL,
  hasDerivedColumns,
  insertValues,
  rebuildWithDerivedColumns,
} from './derived-columns.js';
import { FTS_TABLE, hasLegacyFts, migrateFts, registerFtsContent } from './fts-content.js';
import { addUsageRollup, countUsage } from './usage-rollup.js';

export type Db = Database.Database;

/**
 * 1: the first layout. 2: the FTS index keeps no copy of the text (fts-content.ts). 3: hourly
 * usage rollups (usage-rollup.ts). 4: `time` and `usage_json` stored only where
 * they are not a copy of `ts` and the response's usage (derived-columns.ts). An older partition is
 * migrated the first time it is opened for writing.
 */
export const SCHEMA_VERSION = 4;

export { FTS_DDL, FTS_TABLE } from './fts-content.js';

const REQUESTS_DDL = `
CREATE TABLE IF NOT EXISTS requests (
  request_id TEXT PRIMARY KEY,
  server_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  method TEXT,
  status_code INTEGER NOT NULL,
  latency_ms REAL,
  ttfb_ms REAL,
  overhead_ms REAL,
  stream INTEGER NOT NULL DEFAULT 0,
  api_key_hash TEXT,
  client_ip TEXT,
  user_agent TEXT,
  client_request_id TEXT,
  model_original TEXT,
  model_mapped TEXT,
  provider TEXT,
  key_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  total_tokens INTEGER,
  cost REAL,
  dialog_id TEXT,
  dialog_source TEXT,
  request_json TEXT,
  response_json TEXT,
  error_json TEXT,
  attempts_json TEXT,${DERIVED_COLUMNS_DDL}
);`;

/**
 * idx_requests_client serves the console's client filter newest first (an index entry ends with
 * the rowid, so one key's rows come in rowid order); until version 4 it was (api_key_hash,
 * endpoint, model_mapped, ts), whose last three columns no query used (3% of a partition).
 */
const INDEXES_DDL = `
CREATE INDEX IF NOT EXISTS idx_requests_ts ON requests (ts, request_id);
CREATE INDEX IF NOT EXISTS idx_requests_dialog ON requests (dialog_id, ts);
CREATE INDEX IF NOT EXISTS idx_requests_client ON requests (api_key_hash);`;

export const SCHEMA_DDL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS servers (
  server_id TEXT PRIMARY KEY,
  hostname TEXT,
  environment TEXT,
  created_at TEXT,
  first_seen_ts INTEGER
);
${REQUESTS_DDL}
${INDEXES_DDL}
CREATE TABLE IF NOT EXISTS ingest_sources (
  source_path TEXT PRIMARY KEY,
  bytes_consumed INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  records INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);
`;

export interface RequestRow {
  request_id: string;
  server_id: string;
  ts: number;
  time: string;
  endpoint: string;
  method: string | null;
  status_code: number;
  latency_ms: number | null;
  ttfb_ms: number | null;
  overhead_ms: number | null;
  stream: number;
  api_key_hash: string | null;
  client_ip: string | null;
  user_agent: string | null;
  client_request_id: string | null;
  model_original: string | null;
  model_mapped: string | null;
  provider: string | null;
  key_id: string | null;
  attempts: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost: number | null;
  dialog_id: string | null;
  /** 'header' when the client sent X-Dialog-Id (never overwritten), 'auto' when grouping set it. */
  dialog_source: string | null;
  request_json: string | null;
  response_json: string | null;
  error_json: string | null;
  attempts_json: string | null;
  usage_json: string | null;
}

export const REQUEST_COLUMNS: readonly (keyof RequestRow)[] = [
  'request_id',
  'server_id',
  'ts',
  'time',
  'endpoint',
  'method',
  'status_code',
  'latency_ms',
  'ttfb_ms',
  'overhead_ms',
  'stream',
  'api_key_hash',
  'client_ip',
  'user_agent',
  'client_request_id',
  'model_original',
  'model_mapped',
  'provider',
  'key_id',
  'attempts',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cost',
  'dialog_id',
  'dialog_source',
  'request_json',
  'response_json',
  'error_json',
  'attempts_json',
  'usage_json',
];

export interface ServerRow {
  server_id: string;
  hostname: string | null;
  environment: string | null;
  created_at: string | null;
}

export class SchemaVersionError extends Error {
  constructor(path: string, found: number) {
    super(`${path}: schema version ${found} is newer than this ai-proxy understands (${SCHEMA_VERSION})`);
    this.name = 'SchemaVersionError';
  }
}

export interface OpenOptions {
  readonly?: boolean;
}

export function readSchemaVersion(db: Db): number {
  // One statement (a search opens hundreds of partitions); a file without `meta` is version 0.
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    return row === undefined ? 0 : Number(row.value);
  } catch (error) {
    if (error instanceof Error && /no such table: meta/.test(error.message)) return 0;
    throw error;
  }
}

export function hasFtsIndex(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(FTS_TABLE) !== undefined
  );
}

/** Opens a partition, creating it with the schema when new. Read-only opens never create. */
/**
 * A partition opened to read, or undefined while it has no tables yet: the ingest creates a day's
 * file and then its schema, and a reader that opens it in between would fail on a missing table
 * (a console search once answered "no such table: requests" while the first records went in).
 */
export function openPartitionToRead(path: string): Db | undefined {
  const db = openPartition(path, { readonly: true });
  if (readSchemaVersion(db) > 0) return db;
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'requests'").get();
  if (table !== undefined) return db;
  db.close();
  return undefined;
}

export function openPartition(path: string, options: OpenOptions = {}): Db {
  if (options.readonly === true) {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    const version = readSchemaVersion(db);
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new SchemaVersionError(path, version);
    }
    registerFtsContent(db);
    return db;
  }
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // Rows are a few KB (bodies as JSON): 16 KB pages measured a third less CPU per insert than
    // the 4 KB default. Incremental auto-vacuum lets an FTS rebuild hand its freed pages back
    // (compactFile). Both only take effect on a new file, before its first write.
    db.pragma('page_size = 16384');
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL loses at most the last transactions on power loss, never consistency;
    // ingest is resumable, so that is the right trade for its write rate.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    registerFtsContent(db);
    const version = readSchemaVersion(db);
    if (version > SCHEMA_VERSION) throw new SchemaVersionError(path, version);
    if (version < SCHEMA_VERSION) upgrade(db, path);
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
    throw error;
  }
  return db;
}

/**
 * Brings a partition to SCHEMA_VERSION in one transaction (another process may be doing the same:
 * the version is read again under the write lock). A migrated index leaves the old text's pages
 * free; VACUUM gives them back to the disk.
 */
function upgrade(db: Db, path: string): void {
  db.exec('BEGIN IMMEDIATE');
  const version = readSchemaVersion(db);
  if (version > SCHEMA_VERSION) throw new SchemaVersionError(path, version);
  if (version === SCHEMA_VERSION) {
    db.exec('COMMIT');
    return;
  }
  db.exec(SCHEMA_DDL);
  // A table of an older layout keeps its rows and rowids (the FTS index maps rowids to rows).
  const rebuilt = !hasDerivedColumns(db);
  if (rebuilt) rebuildWithDerivedColumns(db, REQUESTS_DDL, INDEXES_DDL, REQUEST_COLUMNS);
  const legacy = hasLegacyFts(db);
  if (legacy) migrateFts(db);
  addUsageRollup(db);
  db.prepare(
    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  ).run(String(SCHEMA_VERSION));
  db.exec('COMMIT');
  if (legacy || rebuilt) {
    // The old table's (and the old index text's) pages are free; VACUUM gives them back and
    // switches the file to incremental auto-vacuum, as new partitions are.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
  }
}

/** Gives the disk back the pages a rebuilt or dropped index freed (a no-op on older files). */
export function compactFile(db: Db): void {
  db.pragma('incremental_vacuum');
}

interface InsertStatement {
  statement: Database.Statement;
  /** The row field bound to each `?`, in order. */
  binds: (keyof RequestRow)[];
}

const insertStatements = new WeakMap<Db, InsertStatement>();

export function insertRequest(db: Db, row: RequestRow): boolean {
  return insertRequestRowid(db, row) !== undefined;
}

/** As insertRequest, returning the new row's rowid (the FTS row shares it), undefined if known. */
export function insertRequestRowid(db: Db, row: RequestRow): number | undefined {
  let cached = insertStatements.get(db);
  if (cached === undefined) {
    // The derived columns' stored forms are computed by the same SQL the merge uses.
    const { into, values, binds } = insertValues(REQUEST_COLUMNS);
    const statement = db.prepare(`INSERT OR IGNORE INTO requests (${into}) VALUES (${values})`);
    cached = { statement, binds: binds as (keyof RequestRow)[] };
    insertStatements.set(db, cached);
  }
  // Positional binding: cheaper than binding 31 named parameters per row.
  const { statement: insert, binds } = cached;
  const values = new Array<unknown>(binds.length);
  for (let i = 0; i < binds.length; i++) values[i] = row[binds[i]!];
  const result = insert.run(values);
  if (result.changes === 0) return undefined;
  countUsage(db, row);
  return Number(result.lastInsertRowid);
}

export function upsertServer(db: Db, server: ServerRow, firstSeenTs: number): void {
  db.prepare(
    `INSERT INTO servers (server_id, hostname, environment, created_at, first_seen_ts)
     VALUES (@server_id, @hostname, @environment, @created_at, @first_seen_ts)
     ON CONFLICT(server_id) DO UPDATE SET
       hostname = COALESCE(servers.hostname, excluded.hostname),
       environment = COALESCE(servers.environment, excluded.environment),
       created_at = COALESCE(servers.created_at, excluded.created_at),
       first_seen_ts = MIN(servers.first_seen_ts, excluded.first_seen_ts)`,
  ).run({ ...server, first_seen_ts: firstSeenTs });
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function intOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function textOrNull(json: string): string | null {
  return json === 'null' || json === '' ? null : json;
}

/**
 * Token counts in the OpenAI names, with the Anthropic and Gemini names as fallbacks. Anthropic's
 * input_tokens leaves the cache out: its usage is read as the gateway reads it for cost
 * (readUsage), the prompt count adding the cache reads and writes.
 */
function tokens(usage: unknown): { prompt: number | null; completion: number | null; total: number | null } {
  const u = asObject(usage);
  if (u === undefined) return { prompt: null, completion: null, total: null };
  const read = u.prompt_tokens === undefined && u.input_tokens !== undefined ? readUsage(u) : undefined;
  if (read !== undefined)
    return {
      prompt: Math.trunc(read.promptTokens),
      completion: Math.trunc(read.completionTokens),
      total: Math.trunc(read.totalTokens),
    };
  const prompt = intOrNull(u.prompt_tokens ?? u.input_tokens ?? u.promptTokenCount);
  const completion = intOrNull(u.completion_tokens ?? u.output_tokens ?? u.candidatesTokenCount);
  const total =
    intOrNull(u.total_tokens ?? u.totalTokenCount) ??
    (prompt !== null || completion !== null ? (prompt ?? 0) + (completion ?? 0) : null);
  return { prompt, completion, total };
}

/**
 * `bodies` is the request and response as JSON text straight from the log line, which spares
 * parsing and re-serializing them (ingest.ts); without it they are serialized from the record.
 */
export function rowFromRecord(
  record: RequestRecord,
  bodies?: { request: string; response: string },
): RequestRow {
  const ts = Date.parse(record.time);
  const usage = tokens(record.usage);
  return {
    request_id: record.id,
    server_id: record.server_id,
    ts: Number.isFinite(ts) ? ts : 0,
    time: record.time,
    endpoint: record.endpoint,
    method: record.method ?? null,
    status_code: record.status,
    latency_ms: record.latency_ms ?? null,
    ttfb_ms: record.ttfb_ms ?? null,
    overhead_ms: record.overhead_ms ?? null,
    stream: record.stream ? 1 : 0,
    api_key_hash: record.client_key_hash ?? null,
    client_ip: record.client_ip ?? null,
    user_agent: record.user_agent ?? null,
    client_request_id: record.client_request_id ?? null,
    model_original: record.model_requested ?? null,
    model_mapped: record.model_mapped ?? null,
    provider: record.provider ?? null,
    key_id: record.key_id ?? null,
    attempts: Array.isArray(record.attempts) ? record.attempts.length : 0,
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.total,
    cost: typeof record.cost === 'number' ? record.cost : null,
    dialog_id: record.dialog_id ?? null,
    dialog_source: record.dialog_id ? 'header' : null,
    request_json: bodies === undefined ? jsonOrNull(record.request) : textOrNull(bodies.request),
    response_json: bodies === undefined ? jsonOrNull(record.response) : textOrNull(bodies.response),
    error_json: jsonOrNull(record.error),
    attempts_json: jsonOrNull(record.attempts),
    usage_json: jsonOrNull(record.usage),
  };
}
