// `ai-proxy logs ingest` killed with SIGKILL in the middle resumes with no loss and no duplicates,
// its FTS index in step with the rows, and a torn last line waits for the writer to finish it.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDay, partitionPath } from '../../src/logstore/partitions.js';
import { openPartition } from '../../src/logstore/schema.js';
import { BIN, runCli } from '../support/cli.js';
import { makeTempDir } from '../support/gateway.js';

const RECORDS = 60_000;

function line(i: number): string {
  const minute = Math.floor(i / 60);
  return `${JSON.stringify({
    id: `req_${String(i).padStart(8, '0')}`,
    client_request_id: null,
    time: new Date(Date.UTC(2025, 8, 1, 0, 0, 0) + minute * 1000 + (i % 60)).toISOString(),
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
        { role: 'system', content: 'You are a helpful assistant for record number ' + i },
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

function counts(dbPath: string): { rows: number; fts: number; distinct: number; bytes: number } {
  const db = openPartition(dbPath, { readonly: true });
  try {
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
    const distinct = (
      db.prepare('SELECT COUNT(DISTINCT request_id) AS n FROM requests').get() as { n: number }
    ).n;
    const fts = (db.prepare('SELECT COUNT(*) AS n FROM request_text_index').get() as { n: number }).n;
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
    const file = join(logDir, 'requests', '2025-09-01.jsonl');
    const parts: string[] = [];
    for (let i = 0; i < RECORDS; i++) parts.push(line(i));
    const torn = line(RECORDS);
    const tornHead = torn.slice(0, 100);
    writeFileSync(file, parts.join('') + tornHead);
    const completeBytes = statSync(file).size - tornHead.length;
    const env = { LOG_DIR: logDir, LOGDB_MEMORY_CAP_MB: '16' };
    const dbPath = partitionPath(join(logDir, 'db'), parseDay('2025-09-01', 'x'), 'daily');

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
    expect(counts(dbPath)).toMatchObject({ rows: RECORDS + 1, fts: RECORDS + 1, bytes: statSync(file).size });

    // A replaced file (same name, different bytes) is read again from the start, still no duplicates.
    writeFileSync(file, parts.slice(0, 10).join('') + line(RECORDS + 5));
    const replaced = await runCli(['logs', 'ingest', '--json'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(JSON.parse(replaced.stdout)).toMatchObject({ inserted: 1, duplicates: 10 });
    expect(counts(dbPath).rows).toBe(RECORDS + 2);
  }, 180_000);
});
