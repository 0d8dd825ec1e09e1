// Row merging (import and `logs merge`) on real SQLite partitions: idempotence, rows split over the
// destination's granularity, a request id seen from two servers reported, FTS rows added.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeDirectory } from '../../src/logstore/bundle/merge-dir.js';
import { mergeIntoStore } from '../../src/logstore/bundle/merge-rows.js';
import { createFts } from '../../src/logstore/fts.js';
import { type Granularity, listPartitions, partitionPath } from '../../src/logstore/partitions.js';
import { insertRequest, openPartition, type RequestRow } from '../../src/logstore/schema.js';
import { makeTempDir } from '../support/gateway.js';

const dir = makeTempDir('ai-proxy-merge-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function row(id: string, server: string, time: string, text = 'hello'): RequestRow {
  return {
    request_id: id,
    server_id: server,
    ts: Date.parse(time),
    time,
    endpoint: '/v1/chat/completions',
    method: 'POST',
    status_code: 200,
    latency_ms: 10,
    ttfb_ms: 5,
    overhead_ms: 1,
    stream: 0,
    api_key_hash: 'h',
    client_ip: '127.0.0.1',
    user_agent: null,
    client_request_id: null,
    model_original: 'm',
    model_mapped: 'm',
    provider: 'openai',
    key_id: 'k',
    attempts: 1,
    prompt_tokens: 1,
    completion_tokens: 1,
    total_tokens: 2,
    cost: null,
    dialog_id: null,
    dialog_source: null,
    request_json: JSON.stringify({ messages: [{ role: 'user', content: text }] }),
    response_json: null,
    error_json: null,
    attempts_json: null,
    usage_json: null,
  };
}

function write(root: string, granularity: Granularity, rows: RequestRow[], fts = false): string[] {
  const paths = new Set<string>();
  for (const r of rows) {
    const path = partitionPath(root, new Date(r.ts), granularity);
    const db = openPartition(path);
    try {
      if (fts) createFts(db);
      insertRequest(db, r);
    } finally {
      db.close();
    }
    paths.add(path);
  }
  return [...paths];
}

function ids(root: string): string[] {
  return listPartitions(root)
    .flatMap((p) => {
      const db = openPartition(p.path, { readonly: true });
      try {
        return (db.prepare('SELECT request_id FROM requests').all() as { request_id: string }[]).map(
          (r) => r.request_id,
        );
      } finally {
        db.close();
      }
    })
    .sort();
}

describe('mergeIntoStore', () => {
  it('splits a weekly partition over a daily store, once, with FTS rows for what it added', () => {
    const source = join(dir, 'weekly-src');
    const [weekly] = write(
      source,
      'weekly',
      [
        row('req_1', 'srv_a', '2026-11-16T10:00:00.000Z', 'okapi'),
        row('req_2', 'srv_a', '2026-11-17T10:00:00.000Z', 'narwhal'),
        row('req_3', 'srv_a', '2026-11-19T23:59:59.000Z', 'axolotl'),
      ],
      true,
    );
    const dest = join(dir, 'daily-dest');
    const first = mergeIntoStore(dest, weekly as string, 'daily');
    expect(first).toMatchObject({ rows: 3, inserted: 3, conflicts: 0 });
    expect(first.partitions.map((p) => p.split('/').at(-1))).toEqual([
      'ai_proxy_20261116.sqlite3',
      'ai_proxy_20261117.sqlite3',
      'ai_proxy_20261119.sqlite3',
    ]);
    expect(mergeIntoStore(dest, weekly as string, 'daily')).toMatchObject({ rows: 3, inserted: 0 });
    expect(ids(dest)).toEqual(['req_1', 'req_2', 'req_3']);
    const db = openPartition(first.partitions[1] as string, { readonly: true });
    try {
      const hits = db
        .prepare("SELECT request_id FROM request_text_index WHERE request_text_index MATCH 'narwhal'")
        .all();
      expect(hits).toEqual([{ request_id: 'req_2' }]);
    } finally {
      db.close();
    }
  });
});

describe('mergeDirectory', () => {
  it('merges every partition into one file and reports a request id seen from two servers', () => {
    const from = join(dir, 'two-servers');
    write(from, 'daily', [
      row('req_a1', 'srv_a', '2026-11-20T08:00:00.000Z'),
      row('req_same', 'srv_a', '2026-11-20T09:00:00.000Z'),
    ]);
    write(from, 'weekly', [
      row('req_b1', 'srv_b', '2026-11-21T08:00:00.000Z'),
      row('req_same', 'srv_b', '2026-11-21T09:00:00.000Z'),
    ]);
    const file = join(dir, 'one.sqlite3');
    const result = mergeDirectory(from, file);
    expect(result).toEqual({ partitions: 2, rows: 4, inserted: 3, conflicts: 1 });
    expect(mergeDirectory(from, file)).toMatchObject({ inserted: 0, rows: 4 });
    const db = openPartition(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      const stored = db.prepare('SELECT request_id, server_id FROM requests ORDER BY request_id').all();
      expect(stored).toEqual([
        { request_id: 'req_a1', server_id: 'srv_a' },
        { request_id: 'req_b1', server_id: 'srv_b' },
        // Partitions merge in time order: the weekly one (from Monday 11-16) came first.
        { request_id: 'req_same', server_id: 'srv_b' },
      ]);
    } finally {
      db.close();
    }
  });
});
