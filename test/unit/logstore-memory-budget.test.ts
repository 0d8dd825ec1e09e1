// The log store's memory budget: an ingest's page cache per partition stays small whatever the cap
// (appends need the right edge of each b-tree, not the file), and a partition no file holds any
// more gives its cache back yet still takes the rows of other files that belong to its day.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/logs/request-record.js';
import { IngestCache } from '../../src/logstore/ingest.js';
import { INGEST_CACHE_KIB, memoryBudget, singlePartitionCacheKib } from '../../src/logstore/memory-budget.js';
import { insertRequest, rowFromRecord } from '../../src/logstore/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function record(id: string): RequestRecord {
  return {
    id,
    time: '2025-03-04T10:00:00.000Z',
    server_id: 'srv_a',
    endpoint: '/v1/chat/completions',
    status: 200,
    request: { model: 'm', messages: [{ role: 'user', content: 'hello' }] },
  } as RequestRecord;
}

describe('memoryBudget', () => {
  it('gives an ingest partition at most INGEST_CACHE_KIB of page cache, whatever the cap', () => {
    for (const cap of [64, 256, 1024, 8192]) {
      for (const lanes of [1, 2, 8]) {
        const budget = memoryBudget(cap, lanes);
        expect(budget.cacheKib).toBeLessThanOrEqual(INGEST_CACHE_KIB);
        expect(budget.cacheKib).toBeGreaterThanOrEqual(1024);
      }
    }
    expect(memoryBudget(256, 2).cacheKib).toBe(2048);
    // Commands that read one partition at a time keep their larger cache.
    expect(singlePartitionCacheKib(256)).toBe(131_072);
  });
});

describe('IngestCache', () => {
  it('keeps an unpinned partition open, with its cache at the budget, and writable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logstore-budget-'));
    dirs.push(dir);
    const path = join(dir, 'p.sqlite3');
    const cache = new IngestCache();
    cache.cacheKib = memoryBudget(256, 2).cacheKib;
    try {
      const db = cache.pin(path);
      expect(db.pragma('cache_size', { simple: true })).toBe(-2048);
      cache.write(path, (d) => insertRequest(d, rowFromRecord(record('req_1'))));
      cache.unpin(path);
      // Still the same open connection (rows of other files' spill land here), still writable.
      expect(cache.dbs.get(path)).toBe(db);
      cache.write(path, (d) => insertRequest(d, rowFromRecord(record('req_2'))));
      expect((db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n).toBe(2);
    } finally {
      cache.close();
    }
  });
});
