// Hourly usage rollups (schema version 3, src/logstore/usage-rollup.ts): kept by every write path
// (ingest of JSONL, a direct insert, a bundle/merge of another partition), filled when an older
// partition is first opened for writing, never counted twice where a version 3 trigger remains; and the
// console's usageHistory reading them gives exactly what a scan of the rows gives, for ranges
// with part hours at their edges and for partitions without rollups.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/logs/request-record.js';
import { mergeIntoStore } from '../../src/logstore/bundle/merge-rows.js';
import { ingest } from '../../src/logstore/ingest.js';
import { partitionPath } from '../../src/logstore/partitions.js';
import {
  type Db,
  insertRequest,
  openPartition,
  readSchemaVersion,
  rowFromRecord,
  SCHEMA_DDL,
  SCHEMA_VERSION,
} from '../../src/logstore/schema.js';
import { HOUR_MS, hasUsageRollup, USAGE_TABLE } from '../../src/logstore/usage-rollup.js';
import { type Bucket, usageHistory } from '../../src/server/routes/console-api-usage.js';

const DAY = (d: number) => Date.UTC(2025, 8, d);

/** Varied rows: NULL providers, models and clients, errors, missing usage and cost. */
function record(i: number, day: number): RequestRecord {
  const time = new Date(DAY(day) + ((i * 137_003) % 86_400_000)).toISOString();
  const usage =
    i % 7 === 0
      ? undefined
      : i % 5 === 0
        ? { input_tokens: 30 + (i % 11), output_tokens: 9 }
        : {
            prompt_tokens: 100 + (i % 13),
            completion_tokens: 20 + (i % 3),
            total_tokens: 120 + (i % 13) + (i % 3),
          };
  return {
    id: `req_${day}_${i}`,
    client_request_id: null,
    time,
    server_id: 'srv_a',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: i % 4 === 0 ? undefined : `h${i % 3}`,
    client_ip: '127.0.0.1',
    user_agent: null,
    dialog_id: null,
    model_requested: ['gpt-4o', 'claude-3-5-sonnet', 'gemini-1.5-pro'][i % 3],
    model_mapped: i % 6 === 0 ? undefined : `mapped-${i % 2}`,
    provider: [undefined, 'openai', 'anthropic', 'gemini'][i % 4],
    key_id: 'k1',
    status: i % 9 === 0 ? 500 : i % 10 === 0 ? 429 : 200,
    latency_ms: 12,
    ttfb_ms: 5,
    overhead_ms: 1,
    stream: false,
    attempts: [],
    usage,
    // Whole micro-dollars: sums in any order round to the same printed cost.
    cost: i % 8 === 0 ? undefined : ((i * 37) % 5000) / 1e6,
    request: { messages: [{ role: 'user', content: `hello ${i}` }] },
    response: null,
    error: null,
  } as RequestRecord;
}

function records(day: number, n: number): RequestRecord[] {
  return Array.from({ length: n }, (_, i) => record(i, day));
}

/** What the rollup table must hold: the rows grouped by hour, read straight from `requests`. */
function fromRows(db: Db): unknown[] {
  return db
    .prepare(
      `SELECT ts - ts % ${HOUR_MS} AS t, provider, COALESCE(model_mapped, model_original) AS model,
         api_key_hash AS client, COUNT(*) AS requests, SUM(status_code >= 400) AS errors,
         TOTAL(prompt_tokens) AS prompt_tokens, TOTAL(completion_tokens) AS completion_tokens,
         TOTAL(total_tokens) AS total_tokens, ROUND(TOTAL(cost), 9) AS cost
       FROM requests GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    )
    .all();
}

/** The rollup table as it is, in the same order (a NULL key is stored as a zero byte). */
function fromRollup(db: Db): unknown[] {
  return db
    .prepare(
      `SELECT hour AS t, NULLIF(provider, X'00') AS provider, NULLIF(model, X'00') AS model,
         NULLIF(client, X'00') AS client, requests, errors, prompt_tokens, completion_tokens, total_tokens,
         ROUND(cost, 9) AS cost
       FROM ${USAGE_TABLE} ORDER BY 1, 2, 3, 4`,
    )
    .all();
}

function expectRollupMatches(path: string): void {
  const db = openPartition(path, { readonly: true });
  try {
    expect(hasUsageRollup(db)).toBe(true);
    const expected = fromRows(db);
    expect(expected.length).toBeGreaterThan(20);
    expect(fromRollup(db)).toEqual(expected);
  } finally {
    db.close();
  }
}

function insertAll(db: Db, list: RequestRecord[]): void {
  db.transaction(() => {
    for (const r of list) insertRequest(db, rowFromRecord(r));
  })();
}

/** A partition as ai-proxy wrote it at schema version 2: no rollup table, no triggers. */
function writeV2Partition(path: string, list: RequestRecord[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.exec(SCHEMA_DDL);
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '2')").run();
  insertAll(db, list);
  db.close();
}

/** A store of five days, each written another way; day 3 is an old (version 2) partition. */
async function buildStore(): Promise<{ root: string; day3: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'logstore-usage-'));
  const root = join(dir, 'db');
  // Day 1: `logs ingest` of a JSONL file, with a row of day 2 in it (it lands in day 2).
  const logs = join(dir, 'requests');
  mkdirSync(logs, { recursive: true });
  const day1 = [...records(1, 700), record(9999, 2)];
  writeFileSync(join(logs, '2025-09-01.jsonl'), day1.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const result = await ingest({ from: logs, dbRoot: root, granularity: 'daily' });
  expect(result.inserted).toBe(701);
  // Day 2: direct inserts (the in-server ingest writes the same way); a second run changes nothing.
  const day2 = openPartition(partitionPath(root, new Date(DAY(2)), 'daily'));
  insertAll(day2, records(2, 600));
  insertAll(day2, records(2, 600));
  day2.close();
  // Day 3: a partition older than the rollups.
  const day3 = partitionPath(root, new Date(DAY(3)), 'daily');
  writeV2Partition(day3, records(3, 500));
  // Day 4: merged from another store's partition (bundle import and `logs merge`).
  const other = join(dir, 'other.sqlite3');
  const source = openPartition(other);
  insertAll(source, records(4, 400));
  source.close();
  expect(mergeIntoStore(root, other, 'daily').inserted).toBe(400);
  expect(mergeIntoStore(root, other, 'daily').inserted).toBe(0);
  return { root, day3 };
}

describe('hourly usage rollups', () => {
  it('are kept by ingest, inserts and merges, and filled when an old partition is opened', async () => {
    const { root, day3 } = await buildStore();
    for (const day of [1, 2, 4]) expectRollupMatches(partitionPath(root, new Date(DAY(day)), 'daily'));

    const old = openPartition(day3, { readonly: true });
    expect(hasUsageRollup(old)).toBe(false);
    old.close();
    const migrated = openPartition(day3);
    expect(readSchemaVersion(migrated)).toBe(SCHEMA_VERSION);
    migrated.close();
    expectRollupMatches(day3);

    // A partition that still has schema version 3's trigger: the first connection that counts
    // drops it, so no row is counted twice.
    const path = partitionPath(root, new Date(DAY(5)), 'daily');
    const v3 = openPartition(path);
    v3.exec(`CREATE TRIGGER usage_hourly_insert AFTER INSERT ON requests BEGIN
      INSERT INTO usage_hourly VALUES (new.ts - new.ts % 3600000, IFNULL(new.provider, X'00'),
        IFNULL(COALESCE(new.model_mapped, new.model_original), X'00'), IFNULL(new.api_key_hash, X'00'),
        1, new.status_code >= 400, IFNULL(new.prompt_tokens, 0), IFNULL(new.completion_tokens, 0),
        IFNULL(new.total_tokens, 0), IFNULL(new.cost, 0.0))
      ON CONFLICT DO UPDATE SET requests = requests + 1; END`);
    v3.close();
    const later = openPartition(path);
    insertAll(later, records(5, 300));
    later.close();
    expectRollupMatches(path);
  });

  it('give usageHistory the same answer as a scan of the rows, for any range and bucket', async () => {
    const { root, day3 } = await buildStore();
    const ranges: [number, number][] = [
      [DAY(1), DAY(6)],
      [DAY(1) + 5 * HOUR_MS + 1_043_456, DAY(3) + 19 * HOUR_MS + 2_530_000],
      [DAY(2) + 10 * HOUR_MS + 600_000, DAY(2) + 10 * HOUR_MS + 3_000_000],
      [DAY(2) + 10 * HOUR_MS + 600_000, DAY(2) + 11 * HOUR_MS + 1_200_000],
      [DAY(1) + 23 * HOUR_MS + 1_800_000, DAY(4) + 1 * HOUR_MS + 1_800_000],
      [DAY(3) + 7 * HOUR_MS, DAY(4) + 7 * HOUR_MS],
    ];
    const compare = () => {
      for (const [since, until] of ranges) {
        for (const bucket of ['hour', 'day'] as Bucket[]) {
          const fast = usageHistory(root, since, until, bucket);
          expect(fast.totals.requests).toBeGreaterThan(0);
          expect(fast).toEqual(usageHistory(root, since, until, bucket, { rollups: false }));
        }
      }
    };
    compare(); // day 3 has no rollups yet: it is scanned
    openPartition(day3).close();
    compare(); // now every partition has them

    // And the rollups are what was read: a count changed in the table (never done for real)
    // shows in the answer from the rollups only.
    const path = partitionPath(root, new Date(DAY(2)), 'daily');
    const db = new Database(path);
    db.prepare(`UPDATE ${USAGE_TABLE} SET requests = requests + 1000 WHERE hour = ?`).run(
      DAY(2) + 5 * HOUR_MS,
    );
    db.close();
    const fast = usageHistory(root, DAY(2), DAY(3), 'day');
    const scan = usageHistory(root, DAY(2), DAY(3), 'day', { rollups: false });
    expect(fast.totals.requests - scan.totals.requests).toBeGreaterThanOrEqual(1000);
  });
});
