// `ai-proxy logs ingest` killed with SIGKILL in the middle resumes with no loss and no duplicates,
// its FTS index in step with the rows, and a torn last line waits for the writer to finish it.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexedDocuments } from '../../src/logstore/fts.js';
import { parseDay, partitionPath } from '../../src/logstore/partitions.js';
import { openPartition } from '../../src/logstore/schema.js';
import { BIN, runCli } from '../support/cli.js';
import { makeTempDir } from '../support/gateway.js';

const RECORDS = 60_000;

/** Records 0 … RECORDS/2-1 on 2025-09-01, the rest on 2025-09-02: two files, two partitions. */
function line(i: number): string {
  const day = i < RECORDS / 2 ? 0 : 1;
  return `${JSON.stringify({
    id: `req_${String(i).padStart(8, '0')}`,
    client_request_id: null,
    time: new Date(Date.UTC(2025, 8, 1 + day) + i).toISOString(),
    server_id: 'srv_kill',
    endpoint: '/v1/chat/completions',
    method: 'POST',
    client_key_hash: `key${i % 7}`,
    client_ip: '127.0.0.1',
    user_agent: 'test',
    dialog_id: null,
    model_requested: 'gpt-4',
    model_mapped: 'openai/gpt-4',
    provider: 'openrouter',
    key_id: 'openrouter-0001',
    status: 200,
    latency_ms: 12.5,
    ttfb_ms: 4,
    overhead_ms: 0.3,
    stream: false,
    attempts: [{ provider: 'openrouter', status: 200 }],
    usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 },
    cost: 0.0001,
    request: {
      model: 'gpt-4',
      messages: [
        { role: 'system', content: `You are a helpful assistant for record number ${i}` },
        {
          role: 'user',
          content: `Question ${i}: how do lighthouses signal ships at night near rocky coasts?`,
        },
      ],
    },
    response: {
      choices: [{ message: { role: 'assistant', content: `Answer ${i}: with rotating beams of light.` } }],
    },
    error: null,
  })}\n`;
}

type Counts = { rows: number; fts: number; distinct: number; bytes: number };

function counts(dbPaths: string[]): Counts {
  const total: Counts = { rows: 0, fts: 0, distinct: 0, bytes: 0 };
  for (const path of dbPaths) {
    const one = countOne(path);
    total.rows += one.rows;
    total.fts += one.fts;
    total.distinct += one.distinct;
    total.bytes += one.bytes;
  }
  return total;
}

function countOne(dbPath: string): Counts {
  const db = openPartition(dbPath, { readonly: true });
  try {
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
    const distinct = (
      db.prepare('SELECT COUNT(DISTINCT request_id) AS n FROM requests').get() as { n: number }
    ).n;
    // One document per indexed request (a full scan of the index would read the rows themselves).
    const fts = indexedDocuments(db);
    const source = db.prepare('SELECT bytes_consumed FROM ingest_sources').get() as
      | { bytes_consumed: number }
      | undefined;
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return { rows, fts, distinct, bytes: source?.bytes_consumed ?? 0 };
  } finally {
    db.close();
  }
}

describe('ingest killed midway', () => {
  it('resumes after SIGKILL with no loss and no duplicates, and leaves a torn line for later', async () => {
    const dir = makeTempDir('logstore-kill-');
    const logDir = join(dir, 'logs');
    mkdirSync(join(logDir, 'requests'), { recursive: true });
    const firstFile = join(logDir, 'requests', '2025-09-01.jsonl');
    const file = join(logDir, 'requests', '2025-09-02.jsonl');
    const parts: string[] = [];
    for (let i = 0; i < RECORDS; i++) parts.push(line(i));
    writeFileSync(firstFile, parts.slice(0, RECORDS / 2).join(''));
    const torn = line(RECORDS);
    const tornHead = torn.slice(0, 100);
    writeFileSync(file, parts.slice(RECORDS / 2).join('') + tornHead);
    const completeBytes = statSync(firstFile).size + statSync(file).size - tornHead.length;
    // Two ingest threads (LOGDB_IMPORT_PARALLELISM), one per file, both killed with the process.
    const env = { LOG_DIR: logDir, LOGDB_MEMORY_CAP_MB: '16', LOGDB_IMPORT_PARALLELISM: '2' };
    const dbPath = [
      partitionPath(join(logDir, 'db'), parseDay('2025-09-01', 'x'), 'daily'),
      partitionPath(join(logDir, 'db'), parseDay('2025-09-02', 'x'), 'daily'),
    ];

    const child = spawn(process.execPath, [BIN, 'logs', 'ingest', '--fts'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    });
    let stderr = '';
    const killed = await new Promise<boolean>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Plain progress lines come every 10%; kill once a few slices are committed.
        if (/ingest: [3-9]\d%/.test(stderr) && child.exitCode === null) {
          child.kill('SIGKILL');
        }
      });
      child.on('exit', (_code, signal) => resolve(signal === 'SIGKILL'));
    });
    expect(killed, `the ingest finished before it could be killed; stderr: ${stderr}`).toBe(true);

    const midway = counts(dbPath);
    expect(midway.rows).toBeGreaterThan(0);
    expect(midway.rows).toBeLessThan(RECORDS);
    expect(midway.fts).toBe(midway.rows);

    const resumed = await runCli(['logs', 'ingest', '--json'], { cwd: dir, env, timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout) as { inserted: number; duplicates: number };
    const after = counts(dbPath);
    expect(after).toEqual({ rows: RECORDS, fts: RECORDS, distinct: RECORDS, bytes: completeBytes });
    // The resume started at the checkpoint: at most the one uncommitted slice was read twice.
    expect(result.inserted).toBe(RECORDS - midway.rows);
    expect(result.duplicates).toBe(0);

    // The writer finishes the torn line; the next run takes it, once.
    appendFileSync(file, torn.slice(tornHead.length));
    const finish = await runCli(['logs', 'ingest', '--json'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(JSON.parse(finish.stdout)).toMatchObject({ inserted: 1, duplicates: 0 });
    expect(counts(dbPath)).toMatchObject({
      rows: RECORDS + 1,
      fts: RECORDS + 1,
      bytes: statSync(firstFile).size + statSync(file).size,
    });

    // A replaced file (same name, different bytes) is read again from the start, still no duplicates.
    writeFileSync(file, parts.slice(RECORDS / 2, RECORDS / 2 + 10).join('') + line(RECORDS + 5));
    const replaced = await runCli(['logs', 'ingest', '--json'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(JSON.parse(replaced.stdout)).toMatchObject({ inserted: 1, duplicates: 10 });
    expect(counts(dbPath).rows).toBe(RECORDS + 2);
  }, 180_000);
});
