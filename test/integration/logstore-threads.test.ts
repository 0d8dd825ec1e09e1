// Several ingest threads over day files whose rows belong to other days (requests that cross
// midnight, skewed clocks, late flushes): no "database is locked", every row lands once, in the
// partition of its own time, with its FTS row. The built CLI runs it, so the threads are real.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexedDocuments } from '../../src/logstore/fts.js';
import { listPartitions } from '../../src/logstore/partitions.js';
import { openPartition } from '../../src/logstore/schema.js';
import { runCli } from '../support/cli.js';
import { makeTempDir } from '../support/gateway.js';

const FILES = 6;
const PER_FILE = 2500;
const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2025, 8, 1);

/** A deterministic PRNG: the same scatter of days on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function line(id: string, time: number, words: string): string {
  return `${JSON.stringify({
    id,
    client_request_id: null,
    time: new Date(time).toISOString(),
    server_id: 'srv_threads',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: 'k1',
    client_ip: '127.0.0.1',
    user_agent: 'test',
    dialog_id: null,
    model_requested: 'gpt-4',
    model_mapped: 'openai/gpt-4',
    provider: 'openai',
    key_id: 'openai-0001',
    status: 200,
    latency_ms: 10,
    ttfb_ms: 4,
    overhead_ms: 0.2,
    stream: false,
    attempts: [],
    usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    cost: 0.0001,
    request: { model: 'gpt-4', messages: [{ role: 'user', content: `${words} ${id}` }] },
    response: { choices: [{ message: { role: 'assistant', content: `lighthouse ${words}` } }] },
    error: null,
  })}\n`;
}

/**
 * FILES day files; in each, a third of the rows belong to the file's day and the rest to any of
 * the days around it (including days that have no file), and each file repeats 100 rows of the
 * file before it, as a writer that flushed twice would. Returns every distinct id with its time.
 */
function writeScatteredLogs(dir: string): Map<string, number> {
  const rand = rng(18);
  const expected = new Map<string, number>();
  let previous: string[] = [];
  for (let f = 0; f < FILES; f++) {
    const day = FIRST_DAY + f * DAY_MS;
    const lines: string[] = [];
    for (let n = 0; n < PER_FILE; n++) {
      const id = `req_f${f}_${String(n).padStart(5, '0')}`;
      const offsetDays = n % 3 === 0 ? 0 : Math.floor(rand() * (FILES + 2)) - f - 1;
      const time = day + offsetDays * DAY_MS + Math.floor(rand() * DAY_MS);
      expected.set(id, time);
      lines.push(line(id, time, `storm harbour ${f}`));
    }
    lines.push(...previous.slice(0, 100));
    previous = lines;
    writeFileSync(join(dir, `${new Date(day).toISOString().slice(0, 10)}.jsonl`), lines.join(''));
  }
  return expected;
}

describe('logs ingest with several threads and rows of other days', () => {
  it('stores every row once, in its own partition, without lock failures', async () => {
    const dir = makeTempDir('logstore-threads-');
    const logDir = join(dir, 'logs');
    mkdirSync(join(logDir, 'requests'), { recursive: true });
    const expected = writeScatteredLogs(join(logDir, 'requests'));
    const env = { LOG_DIR: logDir, LOGDB_MEMORY_CAP_MB: '16' };

    const first = await runCli(['logs', 'ingest', '--parallelism', '4', '--fts', '--json'], {
      cwd: dir,
      env,
      timeoutMs: 120_000,
    });
    expect(first.stderr).not.toMatch(/locked|busy/i);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { inserted: number; duplicates: number; badLines: number };
    expect(result.inserted).toBe(expected.size);
    expect(result.duplicates).toBe(100 * (FILES - 1));
    expect(result.badLines).toBe(0);

    const seen = new Map<string, string>();
    for (const partition of listPartitions(join(logDir, 'db'))) {
      const db = openPartition(partition.path, { readonly: true });
      try {
        const rows = db.prepare('SELECT request_id, ts FROM requests').all() as {
          request_id: string;
          ts: number;
        }[];
        for (const row of rows) {
          expect(seen.has(row.request_id), `${row.request_id} stored twice`).toBe(false);
          seen.set(row.request_id, partition.key);
          expect(row.ts).toBe(expected.get(row.request_id));
          expect(row.ts).toBeGreaterThanOrEqual(partition.start.getTime());
          expect(row.ts).toBeLessThan(partition.end.getTime());
        }
        // Each row has its index entry (one FTS document per request).
        expect(indexedDocuments(db)).toBe(rows.length);
      } finally {
        db.close();
      }
    }
    expect(seen.size).toBe(expected.size);
    // Days with no file of their own got their rows too.
    expect(new Set(seen.values()).size).toBe(FILES + 2);

    const again = await runCli(['logs', 'ingest', '--parallelism', '4', '--json'], {
      cwd: dir,
      env,
      timeoutMs: 60_000,
    });
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { inserted: number }).inserted).toBe(0);

    const found = await runCli(['logs', 'search', 'lighthouse', '--limit', '5', '--json'], { cwd: dir, env });
    expect(found.code).toBe(0);
    expect((JSON.parse(found.stdout) as { hits: unknown[] }).hits).toHaveLength(5);
  }, 180_000);
});
