// The console's log-store reads run in their own thread (src/server/console-query-runner.ts): a
// gateway on a real port keeps answering /health and relaying chat completions while a console
// usage query scans a store without rollups for a good second; and the runner's bounds: the running
// query's deadline (504), the queue's limit (503), a thread that dies mid-query (500, then a new
// thread), a thread that cannot start (the same query in this thread), and close.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { defaultDbRoot, partitionPath } from '../../src/logstore/partitions.js';
import { openPartition } from '../../src/logstore/schema.js';
import { ConsoleQueryRunner } from '../../src/server/console-query-runner.js';
import { LogQueryError } from '../../src/server/routes/console-api-logs.js';
import { ProviderEmulator } from '../support/emulator.js';
import { makeTempDir, startTestGateway, type TestGateway } from '../support/gateway.js';

const ADMIN_KEY = 'console-thread-admin-key-0123456789';
const HOUR_MS = 3_600_000;
/** Rows in the slow store: its usage query takes about a second here (2.3 s for 300,000). */
const ROWS = 150_000;

/**
 * One partition of ROWS requests over the last 24 hours, without the hourly rollups (as a
 * partition written before schema 3 has none), so the usage query scans every row; models and
 * clients vary so nearly every row is its own group. Made by one INSERT … SELECT: about a second.
 */
function slowStore(dbRoot: string, until: number): void {
  const since = until - 24 * HOUR_MS;
  const db = openPartition(partitionPath(dbRoot, new Date(until - HOUR_MS), 'daily'));
  try {
    db.exec('DROP TABLE usage_hourly');
    db.prepare(
      `INSERT INTO requests (request_id, server_id, ts, endpoint, method, status_code, provider,
         model_original, model_mapped, prompt_tokens, completion_tokens, total_tokens, cost, api_key_hash)
       WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @rows)
       SELECT 'req_' || i, 'srv', @since + (i * 7919) % @span, '/v1/chat/completions', 'POST',
         CASE WHEN i % 50 = 0 THEN 500 ELSE 200 END, 'p' || (i % 3), 'model-' || (i % 97),
         'model-' || (i % 97), 10, 5, 15, 0.001, 'client-' || (i % 89) FROM n`,
    ).run({ rows: ROWS, since, span: 24 * HOUR_MS });
  } finally {
    db.close();
  }
}

/** One exchange whose request body is a 16 MB string: more than a 16 MB heap holds twice. */
function bigExchangeStore(dbRoot: string): void {
  const now = Date.now();
  const db = openPartition(partitionPath(dbRoot, new Date(now), 'daily'));
  try {
    db.prepare(
      `INSERT INTO requests (request_id, server_id, ts, endpoint, method, status_code, request_json)
       VALUES ('req_big', 'srv', ?, '/v1/chat/completions', 'POST', 200,
         '{"text":"' || hex(zeroblob(8000000)) || '"}')`,
    ).run(now);
  } finally {
    db.close();
  }
}

/** The code and status of a rejection, or 'resolved'. */
async function failure(promise: Promise<unknown>): Promise<GatewayError | Error | 'resolved'> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error as Error;
  }
}

describe('console queries in their own thread', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let dbRoot: string;
  let until: number;
  let emptyLogs: string;
  const tempDirs: string[] = [];

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        ADMIN_KEYS: ADMIN_KEY,
        OPENAI_API_KEY: 'sk-upstream-thread',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
      },
    });
    dbRoot = defaultDbRoot(gw.gateway.runtime.config.log.dir);
    // The hour the usage route ends its range at; a test that crosses into the next hour still
    // counts every row, whose times all lie before this one.
    until = Math.ceil((Date.now() + 1) / HOUR_MS) * HOUR_MS;
    slowStore(dbRoot, until);
    emptyLogs = makeTempDir('console-thread-empty-');
    tempDirs.push(emptyLogs);
    mkdirSync(join(emptyLogs, 'requests'));
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  const admin = { authorization: `Bearer ${ADMIN_KEY}` };

  it('keeps relaying while a console usage query scans the store', async () => {
    const runtime = gw.gateway.runtime;
    expect(runtime.consoleQueries.mode, 'npm test builds dist/ first').toBe('thread');
    // A query the user got wrong is still the 400 it was when its error crosses the thread.
    const bad = await fetch(`${gw.url}/ui/api/logs/search?cursor=zzz`, { headers: admin });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'invalid_request', param: 'q', message: 'bad cursor "zzz".' },
    });

    const client = gw.client();
    let running = true;
    const started = performance.now();
    const usage = fetch(`${gw.url}/ui/api/usage?hours=24`, { headers: admin }).then(async (res) => {
      const body = (await res.json()) as { history: { totals: { requests: number } } };
      running = false;
      return { status: res.status, body, ms: performance.now() - started };
    });
    // Answers that came back while the usage query was still running, and how long each took.
    const health: number[] = [];
    const chats: number[] = [];
    while (running) {
      let at = performance.now();
      const res = await fetch(`${gw.url}/health`);
      await res.arrayBuffer();
      if (running) health.push(performance.now() - at);
      at = performance.now();
      upstream.enqueue({ kind: 'chat', content: 'still here' });
      const chat = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'are you there?' }],
      });
      expect(chat.choices[0]!.message.content).toBe('still here');
      if (running) chats.push(performance.now() - at);
    }
    const answer = await usage;
    expect(answer.status).toBe(200);
    expect(answer.body.history.totals.requests).toBe(ROWS);
    // On the gateway's own thread the query held every request until it finished: at most one
    // health check got in before it started. Here they kept coming, each a small part of its time
    // (counts and a median, not the slowest: a loaded machine has pauses of its own).
    const median = [...health].sort((x, y) => x - y)[Math.floor(health.length / 2)] ?? Number.NaN;
    console.log(
      `usage query ${answer.ms.toFixed(0)} ms; meanwhile ${health.length} health checks ` +
        `(median ${median.toFixed(1)} ms) and ${chats.length} chat completions, ` +
        `the slowest ${Math.max(...health, ...chats).toFixed(1)} ms`,
    );
    expect(health.length).toBeGreaterThanOrEqual(5);
    expect(chats.length).toBeGreaterThanOrEqual(5);
    expect(median).toBeLessThan(answer.ms / 10);
  }, 60_000);

  it('stops a query past its deadline with 504, and runs the ones behind it in a new thread', async () => {
    const runner = new ConsoleQueryRunner({ timeoutMs: 250 });
    try {
      const slow = failure(
        runner.run('usage', { dbRoot, since: until - 24 * HOUR_MS, until, bucket: 'hour' }),
      );
      const behind = runner.run('tail', { logDir: emptyLogs, limit: 5 });
      const error = await slow;
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ code: 'console_query_timeout', status: 504 });
      expect((error as Error).message).toContain('usage query ran past its 250 ms deadline');
      expect(await behind).toEqual([]);
      expect(runner.mode).toBe('thread');
      // A query the user got wrong keeps its class across the thread.
      const bad = await failure(runner.run('search', { dbRoot, filters: {}, limit: 5, cursor: 'zzz' }));
      expect(bad).toBeInstanceOf(LogQueryError);
      expect((bad as Error).message).toBe('bad cursor "zzz"');
    } finally {
      await runner.close();
    }
  }, 30_000);

  it('refuses a query with 503 when its queue is full, and answers the queued ones', async () => {
    const runner = new ConsoleQueryRunner({ maxQueued: 2, timeoutMs: 250 });
    try {
      const slow = failure(
        runner.run('usage', { dbRoot, since: until - 24 * HOUR_MS, until, bucket: 'hour' }),
      );
      const queued = runner.run('tail', { logDir: emptyLogs, limit: 5 });
      const refused = await failure(runner.run('tail', { logDir: emptyLogs, limit: 5 }));
      expect(refused).toMatchObject({
        code: 'console_busy',
        status: 503,
        headers: { 'retry-after': '1' },
      });
      expect(await slow).toMatchObject({ code: 'console_query_timeout' });
      expect(await queued).toEqual([]);
      // The queue has room again.
      expect(await runner.run('tail', { logDir: emptyLogs, limit: 5 })).toEqual([]);
    } finally {
      await runner.close();
    }
  }, 30_000);

  it('fails the query a dying thread ran with 500, and starts a new thread for the next', async () => {
    const dir = makeTempDir('console-thread-big-');
    tempDirs.push(dir);
    const root = join(dir, 'db');
    bigExchangeStore(root);
    const errors: string[] = [];
    const runner = new ConsoleQueryRunner({
      heapLimitMb: 16,
      onError: (error) => errors.push(error.message),
    });
    try {
      const died = await failure(runner.run('exchange', { dbRoot: root, id: 'req_big' }));
      expect(died).toMatchObject({ code: 'console_query_failed', status: 500 });
      expect((died as Error).message).toMatch(
        /query thread stopped \(.*memory.*\) while it ran this exchange query/,
      );
      expect(errors).toEqual([expect.stringMatching(/^console query thread stopped/)]);
      expect(await runner.run('exchange', { dbRoot: root, id: 'req_other' })).toBeNull();
      expect(runner.mode).toBe('thread');
    } finally {
      await runner.close();
    }
  }, 30_000);

  it('runs the query in this thread when the thread cannot start', async () => {
    const errors: string[] = [];
    // 1 MB is less than the thread needs to load its modules.
    const runner = new ConsoleQueryRunner({ heapLimitMb: 1, onError: (error) => errors.push(error.message) });
    try {
      expect(await runner.run('tail', { logDir: emptyLogs, limit: 5 })).toEqual([]);
      expect(runner.mode).toBe('inline');
      expect(errors).toEqual([expect.stringMatching(/^console query thread could not start/)]);
      const bad = await failure(runner.run('search', { dbRoot, filters: {}, limit: 5, cursor: 'zzz' }));
      expect(bad).toBeInstanceOf(LogQueryError);
      expect((bad as Error).message).toContain('bad cursor');
    } finally {
      await runner.close();
    }
  }, 30_000);

  it('answers 503 shutting_down for the queries still pending when it closes', async () => {
    const runner = new ConsoleQueryRunner();
    const pending = failure(
      runner.run('usage', { dbRoot, since: until - 24 * HOUR_MS, until, bucket: 'hour' }),
    );
    await runner.close();
    expect(await pending).toMatchObject({ code: 'shutting_down', status: 503 });
    expect(await failure(runner.run('tail', { logDir: emptyLogs, limit: 5 }))).toMatchObject({
      code: 'shutting_down',
    });
  });
});
