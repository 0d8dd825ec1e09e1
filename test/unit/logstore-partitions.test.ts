import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/logs/request-record.js';
import {
  isoWeek,
  listPartitions,
  parseDay,
  partitionKey,
  partitionPath,
  partitionRange,
} from '../../src/logstore/partitions.js';
import {
  hasFtsIndex,
  insertRequest,
  openPartition,
  readSchemaVersion,
  rowFromRecord,
  SCHEMA_VERSION,
} from '../../src/logstore/schema.js';

function record(id: string, time: string): RequestRecord {
  return {
    id,
    client_request_id: null,
    time,
    server_id: 'srv_a',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: 'h1',
    client_ip: '127.0.0.1',
    user_agent: null,
    dialog_id: null,
    model_requested: 'gpt-4',
    model_mapped: 'openai/gpt-4',
    provider: 'openrouter',
    key_id: 'k1',
    status: 200,
    latency_ms: 12,
    ttfb_ms: 5,
    overhead_ms: 1,
    stream: false,
    attempts: [],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    cost: 0.001,
    request: { messages: [{ role: 'user', content: 'hi' }] },
    response: null,
    error: null,
  };
}

describe('log store partitions', () => {
  it('names daily and ISO-weekly partitions as the seed does', () => {
    const day = parseDay('2025-09-03', '--since');
    expect(partitionKey(day, 'daily')).toBe('20250903');
    expect(partitionPath('/r', day, 'daily')).toBe('/r/2025/09/ai_proxy_20250903.sqlite3');
    expect(partitionKey(day, 'weekly')).toBe('2025W36');
    expect(partitionPath('/r', day, 'weekly')).toBe('/r/2025/W36/ai_proxy_2025W36.sqlite3');
    // ISO week-year differs from the calendar year at the edges.
    expect(isoWeek(parseDay('2024-12-30', 'x'))).toEqual({ year: 2025, week: 1 });
    expect(isoWeek(parseDay('2021-01-03', 'x'))).toEqual({ year: 2020, week: 53 });
    expect(partitionRange('2025W01').start.toISOString()).toBe('2024-12-30T00:00:00.000Z');
  });

  it('rejects dates that are not calendar dates', () => {
    expect(() => parseDay('2025-02-30', '--since')).toThrow(/--since.*not a calendar date/);
    expect(() => parseDay('yesterday', '--to')).toThrow(/--to: expected a date as YYYY-MM-DD/);
  });

  it('lists existing partitions of both layouts within a range', () => {
    const root = mkdtempSync(join(tmpdir(), 'logstore-parts-'));
    for (const [day, g] of [
      ['2025-09-01', 'daily'],
      ['2025-09-02', 'daily'],
      ['2025-09-10', 'weekly'],
      ['2025-10-01', 'daily'],
    ] as const) {
      openPartition(partitionPath(root, parseDay(day, 'x'), g)).close();
    }
    const keys = listPartitions(root, parseDay('2025-09-02', 'x'), parseDay('2025-09-08', 'x')).map(
      (p) => p.key,
    );
    expect(keys).toEqual(['20250902', '2025W37']);
    expect(listPartitions(root).map((p) => p.key)).toEqual(['20250901', '20250902', '2025W37', '20251001']);
  });

  it('creates a WAL partition with the schema and inserts idempotently by request id', () => {
    const root = mkdtempSync(join(tmpdir(), 'logstore-schema-'));
    const path = partitionPath(root, parseDay('2025-09-01', 'x'), 'daily');
    const db = openPartition(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(readSchemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(hasFtsIndex(db)).toBe(false);
    const row = rowFromRecord(record('req_1', '2025-09-01T10:00:00.000Z'));
    expect(row.total_tokens).toBe(7);
    expect(insertRequest(db, row)).toBe(true);
    expect(insertRequest(db, row)).toBe(false);
    expect(db.prepare('SELECT COUNT(*) AS n FROM requests').get()).toEqual({ n: 1 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const again = openPartition(path, { readonly: true });
    expect(readSchemaVersion(again)).toBe(SCHEMA_VERSION);
    again.close();
  });
});

describe('ingest into weekly partitions', () => {
  it('puts the days of one ISO week in one partition, each file with its own checkpoint', async () => {
    const { ingest } = await import('../../src/logstore/ingest.js');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'logstore-weekly-'));
    mkdirSync(join(dir, 'requests'));
    // 2025-09-07 is a Sunday (week 36), 2025-09-08 a Monday (week 37).
    for (const [day, ids] of [
      ['2025-09-06', ['w1', 'w2']],
      ['2025-09-07', ['w3']],
      ['2025-09-08', ['w4']],
    ] as const) {
      writeFileSync(
        join(dir, 'requests', `${day}.jsonl`),
        ids.map((id) => `${JSON.stringify(record(id, `${day}T12:00:00.000Z`))}\n`).join(''),
      );
    }
    const result = await ingest({
      from: dir,
      dbRoot: join(dir, 'db'),
      granularity: 'weekly',
      parallelism: 2,
    });
    expect(result).toMatchObject({ files: 3, inserted: 4, duplicates: 0 });
    expect(listPartitions(join(dir, 'db')).map((p) => p.key)).toEqual(['2025W36', '2025W37']);
    const week36 = openPartition(partitionPath(join(dir, 'db'), parseDay('2025-09-06', 'x'), 'weekly'));
    expect(week36.prepare('SELECT COUNT(*) AS n FROM requests').get()).toEqual({ n: 3 });
    expect(week36.prepare('SELECT COUNT(*) AS n FROM ingest_sources').get()).toEqual({ n: 2 });
    week36.close();
    const again = await ingest({ from: dir, dbRoot: join(dir, 'db'), granularity: 'weekly' });
    expect(again).toMatchObject({ inserted: 0, filesRead: 0 });
  });
});
