// A frozen Redis (SIGSTOP: the connection stays open, nothing answers) must not hang requests:
// every Redis command has a deadline (REDIS_COMMAND_TIMEOUT_MS), past it the fail mode applies at
// once, the incident is logged once, and Redis answering again is picked up on its own. The test
// runs its own redis-server on a free port (never the shared one, which other tests use); without
// redis-server it is skipped, unless REQUIRE_REDIS=1.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';
import { uniquePrefix } from '../support/redis.js';

const CONFIG = `providers:
  openai:
    keys:
      - key: sk-frozen-redis-0001
        max_request_min: 1000
        max_request_day: 100000
`;

function redisServerBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const binary = redisServerBinary();
if (binary === undefined && process.env.REQUIRE_REDIS === '1') {
  throw new Error('REQUIRE_REDIS=1 but redis-server is not installed');
}

interface Timed {
  status: number;
  ms: number;
  body: { error?: { code: string } };
}

async function timed(url: string, init: RequestInit = {}): Promise<Timed> {
  const started = Date.now();
  // Bounded, so the unfixed gateway fails the test instead of hanging it.
  const response = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
    signal: AbortSignal.timeout(8_000),
  });
  const body = (await response.json()) as Timed['body'];
  return { status: response.status, ms: Date.now() - started, body };
}

const chat = (gw: TestGateway) =>
  timed(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
  });
const usage = (gw: TestGateway) => timed(`${gw.url}/v1/usage`);

async function waitFor(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function logLines(gw: TestGateway, text: string): string[] {
  return gw.processLog.filter((line) => line.includes(text));
}

describe.runIf(binary !== undefined)('a frozen Redis', () => {
  let upstream: ProviderEmulator;
  let redis: ChildProcess;
  let url: string;
  let direct: Redis;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    const port = await freePort();
    redis = spawn(
      binary!,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    url = `redis://127.0.0.1:${port}`;
    direct = new Redis(url, { lazyConnect: true, retryStrategy: () => 50 });
    direct.on('error', () => {});
    await waitFor(async () => {
      try {
        if (direct.status !== 'ready') await direct.connect();
        return (await direct.ping()) === 'PONG';
      } catch {
        return false;
      }
    }, 'the private redis-server');
  });
  afterAll(async () => {
    direct?.disconnect();
    redis?.kill('SIGCONT');
    redis?.kill('SIGKILL');
    await upstream?.close();
  });

  /** Requests counted in Redis under the prefix today (the day hashes' `r` fields). */
  async function countedInRedis(prefix: string): Promise<number> {
    let total = 0;
    for (const key of await direct.keys(`${prefix}k:*:d:*`))
      total += Number((await direct.hget(key, 'r')) ?? 0);
    return total;
  }

  async function start(prefix: string, failMode: 'open' | 'closed'): Promise<TestGateway> {
    const gw = await startTestGateway({
      files: { 'config.yml': CONFIG },
      env: {
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        REDIS_URL: url,
        REDIS_KEY_PREFIX: prefix,
        REDIS_FAIL_MODE: failMode,
        REDIS_COMMAND_TIMEOUT_MS: '800',
      },
    });
    const limits = gw.gateway.runtime.keys.store as unknown as { usingRedis: boolean };
    await waitFor(() => limits.usingRedis, 'Redis in use');
    expect((await chat(gw)).status).toBe(200);
    expect(await countedInRedis(prefix)).toBe(1);
    return gw;
  }

  async function freezeWhile(during: () => Promise<void>): Promise<void> {
    redis.kill('SIGSTOP');
    try {
      await during();
    } finally {
      redis.kill('SIGCONT');
    }
  }

  it('fail open: chat and /v1/usage are served at once, counted locally, one warning; then Redis again', async () => {
    const prefix = uniquePrefix('frozen-open');
    const gw = await start(prefix, 'open');
    try {
      await freezeWhile(async () => {
        const results = await Promise.all([chat(gw), chat(gw), usage(gw)]);
        for (const result of results) {
          expect(result.status).toBe(200);
          expect(result.ms).toBeLessThan(2_000);
        }
        // Once degraded, requests no longer wait for Redis at all (less than one deadline).
        const next = await chat(gw);
        expect(next.status).toBe(200);
        expect(next.ms).toBeLessThan(800);
        expect((await usage(gw)).status).toBe(200);
        const warnings = logLines(gw, 'not answering');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('REDIS_FAIL_MODE=open');
        expect(warnings[0]).toContain('timed out');
      });
      await waitFor(() => logLines(gw, 'Redis is reachable again').length === 1, 'the recovery log line');
      const before = await countedInRedis(prefix);
      expect((await chat(gw)).status).toBe(200);
      expect(await countedInRedis(prefix)).toBe(before + 1);
      expect(logLines(gw, 'not answering')).toHaveLength(1);
    } finally {
      await gw.stop();
    }
  }, 30_000);

  it('fail closed: chat and /v1/usage get 503 no_capacity at once; then Redis again', async () => {
    const prefix = uniquePrefix('frozen-closed');
    const gw = await start(prefix, 'closed');
    const upstreamBefore = upstream.requests.length;
    try {
      await freezeWhile(async () => {
        const results = await Promise.all([chat(gw), usage(gw)]);
        for (const result of results) {
          expect(result.status).toBe(503);
          expect(result.body.error?.code).toBe('no_capacity');
          expect(result.ms).toBeLessThan(2_000);
        }
        const next = await chat(gw);
        expect(next.status).toBe(503);
        expect(next.ms).toBeLessThan(800);
        expect(upstream.requests).toHaveLength(upstreamBefore);
        const warnings = logLines(gw, 'not answering');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('REDIS_FAIL_MODE=closed');
      });
      await waitFor(() => logLines(gw, 'Redis is reachable again').length === 1, 'the recovery log line');
      // (A select sent before the deadline runs once Redis thaws, so count from here.)
      const before = await countedInRedis(prefix);
      expect((await chat(gw)).status).toBe(200);
      expect((await usage(gw)).status).toBe(200);
      expect(await countedInRedis(prefix)).toBe(before + 1);
    } finally {
      await gw.stop();
    }
  }, 30_000);
});
