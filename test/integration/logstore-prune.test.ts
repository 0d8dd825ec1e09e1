// Retention: `ai-proxy logs prune --before D` (dry run, delete, --archive) through the built CLI,
// and the in-server ingest's daily prune with LOGDB_RETENTION_DAYS. Whole partitions before D go
// with their request-log files; one whose file ingest has not read to its end stays.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogDbConfig } from '../../src/config/types.js';
import { IngestLoop } from '../../src/logstore/ingest-loop.js';
import { formatDay, listPartitions, parseDay, partitionPath } from '../../src/logstore/partitions.js';
import { openPartition } from '../../src/logstore/schema.js';
import { runCli } from '../support/cli.js';
import { makeTempDir } from '../support/gateway.js';

const DAY_MS = 86_400_000;

function line(id: string, time: number): string {
  return `${JSON.stringify({
    id,
    client_request_id: null,
    time: new Date(time).toISOString(),
    server_id: 'srv_prune',
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
    request: { model: 'gpt-4', messages: [{ role: 'user', content: `tell me about otters ${id}` }] },
    response: { choices: [{ message: { role: 'assistant', content: 'Otters hold hands.' } }] },
    error: null,
  })}\n`;
}

/** `rows` records in the day file of each of `days` (UTC midnights). */
function writeDays(requests: string, days: number[], rows: number): void {
  mkdirSync(requests, { recursive: true });
  for (const day of days) {
    const key = formatDay(new Date(day));
    const text = Array.from({ length: rows }, (_, i) => line(`req_${key}_${i}`, day + i * 60_000)).join('');
    writeFileSync(join(requests, `${key}.jsonl`), text);
  }
}

function rowCount(root: string): number {
  return listPartitions(root).reduce((n, p) => {
    const db = openPartition(p.path, { readonly: true });
    try {
      return n + (db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }, 0);
}

describe('logs prune', () => {
  it('lists, archives and deletes whole partitions before a day, never one ingest has not finished', async () => {
    const dir = makeTempDir('logstore-prune-');
    const logDir = join(dir, 'logs');
    const requests = join(logDir, 'requests');
    const dbRoot = join(logDir, 'db');
    const days = [1, 2, 3, 4, 5].map((d) => Date.UTC(2025, 8, d));
    writeDays(requests, days, 20);
    const env = { LOG_DIR: logDir };
    const cli = (args: string[]) => runCli(['logs', ...args], { cwd: dir, env, timeoutMs: 60_000 });
    expect((await cli(['ingest', '--fts'])).code).toBe(0);
    // 2025-09-02's file grows after the ingest: that partition is not finished.
    appendFileSync(join(requests, '2025-09-02.jsonl'), line('req_late', days[1]! + 3_600_000));

    const dry = await cli(['prune', '--before', '2025-09-04', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      pruned: { key: string; rawFiles: string[] }[];
      kept: { key: string; kept: string }[];
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.pruned.map((p) => p.key)).toEqual(['20250901', '20250903']);
    expect(plan.pruned[0]!.rawFiles).toEqual([join(requests, '2025-09-01.jsonl')]);
    expect(plan.kept).toEqual([
      expect.objectContaining({ key: '20250902', kept: expect.stringMatching(/not ingested to its end/) }),
    ]);
    expect(listPartitions(dbRoot)).toHaveLength(5);
    expect(existsSync(join(requests, '2025-09-01.jsonl'))).toBe(true);
    const text = await cli(['prune', '--before', '2025-09-04', '--dry-run']);
    expect(text.stdout).toMatch(/would delete 20250901/);
    expect(text.stdout).toMatch(/kept 20250902: .*2025-09-02\.jsonl is not ingested to its end/);

    const archive = join(dir, 'archive');
    const done = await cli(['prune', '--before', '2025-09-04', '--archive', archive]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/deleted 20250901: .* archived to .*ai_proxy_20250901\.tgz/);
    expect(listPartitions(dbRoot).map((p) => p.key)).toEqual(['20250902', '20250904', '20250905']);
    for (const day of ['2025-09-01', '2025-09-03']) {
      expect(existsSync(join(requests, `${day}.jsonl`))).toBe(false);
      expect(existsSync(partitionPath(dbRoot, parseDay(day, 'x'), 'daily'))).toBe(false);
    }
    expect(existsSync(join(requests, '2025-09-02.jsonl'))).toBe(true);
    expect(rowCount(dbRoot)).toBe(60);

    // An archive is a verified bundle that brings the day back.
    const verify = await cli(['bundle', 'verify', join(archive, 'ai_proxy_20250901.tgz')]);
    expect(verify.code, verify.stderr).toBe(0);
    const restored = join(dir, 'restored');
    const imported = await cli([
      'bundle',
      'import',
      join(archive, 'ai_proxy_20250901.tgz'),
      '--dest',
      restored,
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(rowCount(restored)).toBe(20);

    // Ingest again: the late line is read, the pruned days do not come back; then 09-02 can go.
    expect((await cli(['ingest'])).code).toBe(0);
    expect(listPartitions(dbRoot).map((p) => p.key)).toEqual(['20250902', '20250904', '20250905']);
    const second = await cli(['prune', '--before', '2025-09-04', '--json']);
    expect((JSON.parse(second.stdout) as { pruned: { key: string }[] }).pruned.map((p) => p.key)).toEqual([
      '20250902',
    ]);
    const search = await cli(['search', 'otters', '--limit', '100', '--json']);
    expect((JSON.parse(search.stdout) as { hits: unknown[] }).hits).toHaveLength(40);

    const none = await cli(['prune']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/give --before/);
  }, 120_000);

  it('runs daily in the in-server ingest with LOGDB_RETENTION_DAYS', async () => {
    const dir = makeTempDir('logstore-retention-');
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const days = [5, 4, 3, 2, 1, 0].map((n) => today - n * DAY_MS);
    writeDays(join(dir, 'requests'), days, 5);
    const config: LogDbConfig = {
      enabled: true,
      ftsEnabled: false,
      groupingEnabled: false,
      granularity: 'daily',
      bundleIncludeRaw: false,
      importParallelism: 1,
      memoryCapMb: 64,
      ingestIntervalMs: 60_000,
      dialogWindowMinutes: 30,
      retentionDays: 2,
    };
    const dbRoot = join(dir, 'db');
    const loop = new IngestLoop({ logDir: dir, dbRoot, config });
    const first = await loop.runOnce();
    expect(first).toMatchObject({ inserted: 30, pruned: 3 });
    // Kept: the two whole days before today, and today.
    expect(listPartitions(dbRoot).map((p) => p.start.getTime())).toEqual(days.slice(3));
    expect(existsSync(join(dir, 'requests', `${formatDay(new Date(days[0]!))}.jsonl`))).toBe(false);
    expect(existsSync(join(dir, 'requests', `${formatDay(new Date(days[3]!))}.jsonl`))).toBe(true);
    // Once a day: the next pass does not prune again.
    const second = await loop.runOnce();
    expect(second?.pruned).toBeUndefined();
    await loop.stop();
  }, 60_000);
});
