// Schema version 4: `time` and `usage_json` are stored only where they are not a copy of `ts` and
// of the response's usage (derived-columns.ts). A version 3 partition (written here with the
// version 3 DDL) is rebuilt when first opened for writing: every row reads back the same, search
// hits, snippets and highlights are identical, the usage rollup is the same, and the file is
// smaller. New rows of every kind (canonical time or not, usage equal to the response's, absent,
// different, a response that is not JSON) read back exactly as written, through inserts and merges.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeIntoFile } from '../../src/logstore/bundle/merge-rows.js';
import { hasDerivedColumns } from '../../src/logstore/derived-columns.js';
import { registerFtsContent } from '../../src/logstore/fts-content.js';
import { parseDay, partitionPath } from '../../src/logstore/partitions.js';
import {
  insertRequest,
  openPartition,
  REQUEST_COLUMNS,
  type RequestRow,
  readSchemaVersion,
  SCHEMA_VERSION,
} from '../../src/logstore/schema.js';
import { search } from '../../src/logstore/search.js';
import { addUsageRollup } from '../../src/logstore/usage-rollup.js';

/** `requests` and its indexes as schema version 3 created them. */
const V3_DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE servers (server_id TEXT PRIMARY KEY, hostname TEXT, environment TEXT, created_at TEXT, first_seen_ts INTEGER);
CREATE TABLE requests (
  request_id TEXT PRIMARY KEY, server_id TEXT NOT NULL, ts INTEGER NOT NULL, time TEXT NOT NULL,
  endpoint TEXT NOT NULL, method TEXT, status_code INTEGER NOT NULL, latency_ms REAL, ttfb_ms REAL,
  overhead_ms REAL, stream INTEGER NOT NULL DEFAULT 0, api_key_hash TEXT, client_ip TEXT, user_agent TEXT,
  client_request_id TEXT, model_original TEXT, model_mapped TEXT, provider TEXT, key_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER,
  cost REAL, dialog_id TEXT, dialog_source TEXT, request_json TEXT, response_json TEXT, error_json TEXT,
  attempts_json TEXT, usage_json TEXT
);
CREATE INDEX idx_requests_ts ON requests (ts, request_id);
CREATE INDEX idx_requests_dialog ON requests (dialog_id, ts);
CREATE INDEX idx_requests_group ON requests (api_key_hash, endpoint, model_mapped, ts);
CREATE TABLE ingest_sources (source_path TEXT PRIMARY KEY, bytes_consumed INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL, sha256 TEXT NOT NULL, records INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
CREATE VIEW request_text AS SELECT rowid AS row_id, request_id, model_original,
  ai_proxy_fts_text(request_json, response_json, 0) AS system_text,
  ai_proxy_fts_text(request_json, response_json, 1) AS user_text,
  ai_proxy_fts_text(request_json, response_json, 2) AS assistant_text,
  ai_proxy_fts_text(request_json, response_json, 3) AS tool_text,
  ai_proxy_fts_text(request_json, response_json, 4) AS answer_text
  FROM requests;
CREATE VIRTUAL TABLE request_text_index USING fts5(
  request_id UNINDEXED, model_original UNINDEXED, system_text, user_text, assistant_text, tool_text,
  answer_text, content = 'request_text', content_rowid = 'row_id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO meta (key, value) VALUES ('schema_version', '3');
`;

const WORDS =
  'lighthouse harbour storm beam signal captain rocky coast night ship café naïve timeout retry'.split(' ');
const words = (i: number, n: number) =>
  Array.from({ length: n }, (_, k) => WORDS[(i * 7 + k * 3 + (i >> 2)) % WORDS.length]).join(' ');

/** Row i of a day: every case of the two derived columns, in turn. */
function row(i: number, day: string): RequestRow {
  const ts = Date.parse(`${day}T00:00:00Z`) + i * 61_007;
  const usage = { prompt_tokens: i, completion_tokens: 2 * i, total_tokens: 3 * i };
  const response = {
    id: `r${i}`,
    choices: [{ message: { role: 'assistant', content: `answer ${words(i + 4, 12)}` } }],
    usage,
  };
  const kind = i % 6;
  const time =
    kind === 1
      ? new Date(ts)
          .toISOString()
          .replace('.000Z', 'Z')
          .replace(/\.(\d+)Z$/, '.$1+00:00')
      : new Date(ts).toISOString();
  const responseJson =
    kind === 4
      ? 'upstream said: not json'
      : JSON.stringify(kind === 5 ? { ...response, usage: undefined } : response);
  const usageJson =
    kind === 2
      ? null
      : kind === 3
        ? JSON.stringify({ ...usage, cached: 1 })
        : kind === 5
          ? null
          : JSON.stringify(usage);
  const out = {} as Record<string, unknown>;
  for (const c of REQUEST_COLUMNS) out[c] = null;
  return {
    ...(out as unknown as RequestRow),
    request_id: `req_${day}_${String(i).padStart(4, '0')}`,
    server_id: 'srv_v3',
    ts,
    time,
    endpoint: '/v1/chat/completions',
    method: 'POST',
    status_code: i % 9 === 0 ? 500 : 200,
    latency_ms: i + 0.5,
    stream: i % 2,
    api_key_hash: `k${i % 3}`,
    model_original: 'gpt-4o',
    model_mapped: 'gpt-4o',
    provider: 'openai',
    attempts: 1,
    prompt_tokens: i,
    completion_tokens: 2 * i,
    total_tokens: 3 * i,
    cost: i / 1000,
    request_json: JSON.stringify({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: `question ${words(i, 10)}` }],
    }),
    response_json: responseJson,
    usage_json: usageJson,
    attempts_json: '[{"provider":"openai","status":200}]',
  };
}

function writeV3Partition(root: string, day: string, rows: number): string {
  const path = partitionPath(root, parseDay(day, 'x'), 'daily');
  openPartition(path).close(); // the folders; then the file is written afresh as version 3
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const db = new Database(path);
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  registerFtsContent(db);
  db.exec(V3_DDL);
  const insert = db.prepare(
    `INSERT INTO requests (${REQUEST_COLUMNS.join(', ')}) VALUES (${REQUEST_COLUMNS.map(() => '?').join(', ')})`,
  );
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const r = row(i, day);
      insert.run(REQUEST_COLUMNS.map((c) => r[c]));
    }
    db.exec("INSERT INTO request_text_index (request_text_index) VALUES ('rebuild')");
    addUsageRollup(db);
  })();
  db.close();
  return path;
}

function rowsOf(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT rowid, ${REQUEST_COLUMNS.join(', ')} FROM requests ORDER BY rowid`).all();
  } finally {
    db.close();
  }
}

function rollupOf(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT * FROM usage_hourly ORDER BY hour, provider, model, client').all();
  } finally {
    db.close();
  }
}

const QUERIES = [
  'lighthouse',
  '"rocky coast"',
  'NEAR(storm captain, 4)',
  'naive',
  'question AND retry',
  'user_text: café',
];

function searches(root: string): unknown[] {
  return QUERIES.map((query) => search({ dbRoot: root, query, limit: 50, highlight: ['[', ']'] }).hits);
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('derived time and usage columns (schema version 4)', () => {
  it('migrates a version 3 partition: same rows, same search hits and snippets, same rollup, smaller', () => {
    const root = mkdtempSync(join(tmpdir(), 'logstore-v4-'));
    roots.push(root);
    const path = writeV3Partition(root, '2025-09-01', 600);
    const rowsBefore = rowsOf(path);
    const hitsBefore = searches(root);
    const rollupBefore = rollupOf(path);
    expect(hitsBefore.flat().length).toBeGreaterThan(100);
    expect(JSON.stringify(hitsBefore)).toMatch(/\[lighthouse\]/i);
    const sizeBefore = statSync(path).size;

    const db = openPartition(path);
    expect(readSchemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(hasDerivedColumns(db)).toBe(true);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // Only the rows whose text differs keep their own copy.
    const kept = db
      .prepare(
        `SELECT SUM(time_text IS NOT NULL) AS time, SUM(usage_text IS NOT NULL AND usage_text <> '') AS usage,
           SUM(usage_text = '') AS absent FROM requests`,
      )
      .get() as { time: number; usage: number; absent: number };
    expect(kept).toEqual({ time: 100, usage: 200, absent: 100 });
    db.close();

    expect(rowsOf(path)).toEqual(rowsBefore);
    expect(searches(root)).toEqual(hitsBefore);
    expect(rollupOf(path)).toEqual(rollupBefore);
    expect(statSync(path).size).toBeLessThan(sizeBefore);

    // Opening again is a no-op; new rows count in the rollup once.
    const again = openPartition(path);
    insertRequest(again, row(600, '2025-09-01'));
    const { n } = again.prepare('SELECT SUM(requests) AS n FROM usage_hourly').get() as { n: number };
    expect(n).toBe(601);
    again.close();
  });

  it('reads back every kind of row exactly as written, inserted or merged from a version 3 file', () => {
    const root = mkdtempSync(join(tmpdir(), 'logstore-v4-'));
    roots.push(root);
    const day = '2025-09-02';
    const source = writeV3Partition(root, day, 60);
    const expected = rowsOf(source).map((r) => {
      const { rowid: _rowid, ...rest } = r as Record<string, unknown>;
      return rest;
    });

    const inserted = join(root, 'inserted.sqlite3');
    const db = openPartition(inserted);
    db.transaction(() => {
      for (let i = 0; i < 60; i++) insertRequest(db, row(i, day));
    })();
    db.close();
    const merged = openPartition(join(root, 'merged.sqlite3'));
    expect(mergeIntoFile(merged, source).inserted).toBe(60);
    merged.close();

    for (const path of [inserted, join(root, 'merged.sqlite3')]) {
      const back = rowsOf(path).map((r) => {
        const { rowid: _rowid, ...rest } = r as Record<string, unknown>;
        return rest;
      });
      expect(back).toEqual(expected);
    }
  });
});
