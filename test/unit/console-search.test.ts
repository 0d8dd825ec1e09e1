// The console's log search (console-api-logs.ts) over many partitions, on the path `ai-proxy logs
// search` takes (anyMatch skips a partition whose index cannot match): a rare word in the oldest
// of 120 partitions is found, with the same hits as the CLI's search; pages walked by cursor give
// what one big page gives; a partition without an index is counted, not searched; a bad query
// names what the user wrote.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/logs/request-record.js';
import { buildFts } from '../../src/logstore/fts.js';
import { partitionPath } from '../../src/logstore/partitions.js';
import { insertRequest, openPartition, rowFromRecord } from '../../src/logstore/schema.js';
import { findRequest, search } from '../../src/logstore/search.js';
import {
  dialogRows,
  LogQueryError,
  MARK_OPEN,
  searchLogs,
} from '../../src/server/routes/console-api-logs.js';
import { usageHistory } from '../../src/server/routes/console-api-usage.js';

const DAYS = 120;
const PER_DAY = 30;
const FIRST = Date.UTC(2025, 0, 1);
const WORDS = 'harbour storm beam signal captain rocky coast night ship tide'.split(' ');

function record(day: number, n: number, extra: string): RequestRecord {
  return {
    id: `req_${day}_${n}`,
    client_request_id: null,
    time: new Date(FIRST + day * 86_400_000 + n * 60_000).toISOString(),
    server_id: 'srv_a',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: 'h1',
    client_ip: '127.0.0.1',
    user_agent: 'test',
    dialog_id: null,
    model_requested: 'gpt-4o',
    model_mapped: null,
    provider: n % 2 === 0 ? 'openai' : 'anthropic',
    key_id: null,
    status: 200,
    latency_ms: 10,
    ttfb_ms: 5,
    overhead_ms: 1,
    stream: false,
    attempts: [],
    usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    cost: 0.001,
    request: {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: `${WORDS[(day + n) % WORDS.length]} ${WORDS[n % 7]} ${extra}` }],
    },
    response: { choices: [{ message: { role: 'assistant', content: 'ok' } }] },
    error: null,
  } as RequestRecord;
}

/** 120 days; the rare word once in day 0 and once in day 50, whose partition has no index. */
function buildStore(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'console-search-')), 'db');
  for (let day = 0; day < DAYS; day++) {
    const db = openPartition(partitionPath(root, new Date(FIRST + day * 86_400_000), 'daily'));
    db.transaction(() => {
      for (let n = 0; n < PER_DAY; n++) {
        const extra =
          (day === 0 || day === 50) && n === 17 ? 'quetzalcoatl' : day % 10 === 3 ? 'lighthouse' : '';
        insertRequest(db, rowFromRecord(record(day, n, extra)));
      }
    })();
    if (day !== 50) buildFts(db);
    db.close();
  }
  return root;
}

describe('console log search over many partitions', () => {
  const root = buildStore();

  it('finds a rare word in the oldest partition, as the CLI search does', () => {
    const page = searchLogs(root, { query: 'quetzalcoatl' }, 20);
    expect(page.hits.map((hit) => hit.request_id)).toEqual(['req_0_17']);
    expect(page.hits[0]!.snippet).toContain(`${MARK_OPEN}quetzalcoatl`);
    expect(page.partitions_searched).toBe(DAYS - 1);
    expect(page.partitions_without_index).toBe(1);
    expect(page.next_cursor).toBeNull();
    const cli = search({ dbRoot: root, query: 'quetzalcoatl', limit: 20 });
    expect(cli.hits.map((hit) => hit.request_id)).toEqual(['req_0_17']);
    expect(cli.partitionsSearched).toBe(page.partitions_searched);

    // Filters still apply in the partition that matches.
    expect(searchLogs(root, { query: 'quetzalcoatl', provider: 'openai' }, 20).hits).toEqual([]);
    expect(searchLogs(root, { query: 'quetzalcoatl', provider: 'anthropic' }, 20).hits).toHaveLength(1);
  });

  it('pages by cursor over partitions with and without matches as one page would', () => {
    const all = searchLogs(root, { query: 'lighthouse OR quetzalcoatl' }, 1000);
    const cli = search({ dbRoot: root, query: 'lighthouse OR quetzalcoatl', limit: 1000 });
    expect(all.hits.map((hit) => hit.request_id)).toEqual(cli.hits.map((hit) => hit.request_id));
    expect(all.hits).toHaveLength(12 * PER_DAY + 1);
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let k = 0; k < 100; k++) {
      const page = searchLogs(root, { query: 'lighthouse OR quetzalcoatl' }, 7, cursor);
      paged.push(...page.hits.map((hit) => hit.request_id));
      if (page.next_cursor === null) break;
      cursor = page.next_cursor;
    }
    expect(paged).toEqual(all.hits.map((hit) => hit.request_id));
    // A full first page stops the walk at the newest partition that fills it.
    expect(searchLogs(root, { query: 'lighthouse' }, 5).partitions_searched).toBe(7);
  });

  it('names the query the user wrote when SQLite refuses it', () => {
    expect(() => searchLogs(root, { query: '"unclosed' }, 5)).toThrow(LogQueryError);
    expect(() => searchLogs(root, { query: 'user_text: "unclosed' }, 5)).toThrow(
      /^bad search query "user_text: \\"unclosed": /,
    );
  });
});

describe('a partition the ingest has created but not yet given its tables', () => {
  // The ingest creates a day's file, then its schema; a reader may open it in between. The console
  // once answered a search with "bad search query undefined: no such table: requests" then.
  const root = join(mkdtempSync(join(tmpdir(), 'console-new-partition-')), 'db');
  const db = openPartition(partitionPath(root, new Date(FIRST), 'daily'));
  for (let n = 0; n < 3; n++)
    insertRequest(db, rowFromRecord({ ...record(0, n, 'quetzalcoatl'), dialog_id: 'dlg_1' }));
  buildFts(db);
  db.close();
  const fresh = partitionPath(root, new Date(FIRST + 86_400_000), 'daily');
  new Database(fresh).close();

  it('reads it as an empty partition in every console query and the CLI search', () => {
    expect(statSync(fresh).size).toBe(0);
    expect(searchLogs(root, {}, 10).hits).toHaveLength(3);
    expect(searchLogs(root, { query: 'quetzalcoatl' }, 10).hits).toHaveLength(3);
    expect(search({ dbRoot: root, query: 'quetzalcoatl', limit: 10 }).hits).toHaveLength(3);
    expect(findRequest(root, 'req_0_1')?.row.request_id).toBe('req_0_1');
    expect(findRequest(root, 'req_missing')).toBeUndefined();
    expect(dialogRows(root, 'dlg_1', 10)).toHaveLength(3);
    const usage = usageHistory(root, FIRST, FIRST + 2 * 86_400_000, 'day');
    expect(usage.totals.requests).toBe(3);
  });
});
