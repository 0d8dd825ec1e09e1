// Version 1 log-store partitions (the FTS index holding its own copy of the text), written as
// ai-proxy wrote them before schema version 2, and a fixed set of searches to compare a store
// before and after its migration.
import Database from 'better-sqlite3';
import type { RequestRecord } from '../../src/logs/request-record.js';
import { extractRequestText } from '../../src/logstore/fts-text.js';
import { parseDay, partitionPath } from '../../src/logstore/partitions.js';
import { insertRequestRowid, openPartition, rowFromRecord, SCHEMA_DDL } from '../../src/logstore/schema.js';
import { type SearchOptions, search } from '../../src/logstore/search.js';

/** The index as schema version 1 created it: FTS5 storing its own copy of each column. */
const V1_FTS_DDL = `
CREATE VIRTUAL TABLE request_text_index USING fts5(
  request_id UNINDEXED, model_original UNINDEXED, system_text, user_text, assistant_text, tool_text,
  answer_text, tokenize = 'unicode61 remove_diacritics 2'
);`;

const WORDS =
  'lighthouse harbour storm beam signal captain rocky coast night ship café naïve résumé timeout retry'.split(
    ' ',
  );

function words(i: number, n: number): string {
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(WORDS[(i * 7 + k * 3 + (i >> 2)) % WORDS.length]!);
  return out.join(' ');
}

/** Chat, Messages and Responses shapes, with tool calls, so every column has text. */
function record(i: number, day: string): RequestRecord {
  const time = new Date(Date.parse(`${day}T00:00:00Z`) + i * 60_000).toISOString();
  const shape = i % 3;
  const request =
    shape === 0
      ? {
          model: 'gpt-4o',
          messages: [
            { role: 'system', content: `system ${words(i, 4)}` },
            { role: 'user', content: `question ${i} ${words(i + 1, 12)}` },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ function: { name: 'lookup_tide', arguments: `{"port":"${words(i, 1)}"}` } }],
            },
            { role: 'tool', content: `tide ${words(i + 2, 3)}` },
          ],
        }
      : shape === 1
        ? {
            model: 'claude-3-5-sonnet',
            system: [{ type: 'text', text: `rules ${words(i, 3)}` }],
            messages: [{ role: 'user', content: [{ type: 'text', text: `ask ${words(i + 3, 10)}` }] }],
          }
        : { model: 'gpt-4.1', instructions: `be brief ${words(i, 2)}`, input: `input ${words(i + 5, 9)}` };
  const response =
    shape === 0
      ? { choices: [{ message: { role: 'assistant', content: `answer ${words(i + 4, 20)}` } }] }
      : shape === 1
        ? { type: 'message', content: [{ type: 'text', text: `reply ${words(i + 6, 15)}` }] }
        : {
            object: 'response',
            output: [
              { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: words(i, 8) }] },
            ],
          };
  return {
    id: `req_${day}_${String(i).padStart(4, '0')}`,
    client_request_id: null,
    time,
    server_id: 'srv_migrate',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: 'k',
    client_ip: '127.0.0.1',
    user_agent: null,
    dialog_id: null,
    model_requested: request.model,
    model_mapped: request.model,
    provider: 'openai',
    key_id: 'k1',
    status: i % 11 === 0 ? 500 : 200,
    latency_ms: 1,
    ttfb_ms: 1,
    overhead_ms: 0,
    stream: false,
    attempts: [],
    usage: null,
    cost: null,
    request,
    response,
    error: null,
  };
}

/** A partition as ai-proxy wrote it at schema version 1. */
export function writeV1Partition(root: string, day: string, rows: number): string {
  const path = partitionPath(root, parseDay(day, 'x'), 'daily');
  openPartition(path).close(); // folders and WAL; then back to version 1 by hand
  const db = new Database(path);
  db.exec('DROP VIEW IF EXISTS request_text; DROP TABLE IF EXISTS request_text_index;');
  db.exec(SCHEMA_DDL);
  db.exec(V1_FTS_DDL);
  db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
  const insert = db.prepare(
    `INSERT INTO request_text_index (rowid, request_id, model_original, system_text, user_text, assistant_text, tool_text, answer_text)
     VALUES (@rowid, @request_id, @model_original, @system_text, @user_text, @assistant_text, @tool_text, @answer_text)`,
  );
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const r = record(i, day);
      const row = rowFromRecord(r);
      const rowid = insertRequestRowid(db, row);
      insert.run({
        rowid,
        request_id: row.request_id,
        model_original: row.model_original,
        ...extractRequestText(r.request, r.response),
      });
    }
  })();
  db.close();
  return path;
}

const QUERIES: Omit<SearchOptions, 'dbRoot'>[] = [
  { query: 'lighthouse', limit: 50 },
  { query: 'harbour storm', limit: 30 },
  { query: '"rocky coast"', limit: 30 },
  { query: 'capt*', limit: 25 },
  { query: 'NEAR(timeout retry, 3)', limit: 40 },
  { query: 'cafe', limit: 20 },
  { query: 'user_text: signal', limit: 20 },
  { query: 'tool_text: lookup_tide', limit: 15 },
  { query: 'system_text: rules', limit: 15 },
  { query: 'answer_text: beam NOT night', limit: 20 },
  { query: 'storm', limit: 20, model: 'claude-3-5-sonnet' },
  { query: 'signal', limit: 20, status: 500 },
  { query: 'ship', limit: 20, highlight: ['<b>', '</b>'] },
  { query: 'xylophone', limit: 20 },
];

export function runAll(dbRoot: string) {
  return QUERIES.map((q) => {
    const result = search({ dbRoot, ...q });
    return result.hits.map(({ partition: _p, ...hit }) => hit);
  });
}
