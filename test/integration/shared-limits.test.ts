// Limit state that outlives a process and spans several (SPEC §6): the memory store's snapshot
// keeps the day's counts across a restart; with REDIS_URL two gateway processes enforce one limit
// exactly; Redis going away means local counting (fail open) or 503 (fail closed), and its return
// is picked up. Redis tests use REDIS_URL (default redis://127.0.0.1:6379); under REQUIRE_REDIS=1
// a missing Redis fails them instead of skipping.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/server/start.js';
import { type ServeProcess, spawnServe } from '../support/cli.js';
import { ProviderEmulator } from '../support/emulator.js';
import { freePort } from '../support/free-port.js';
import { CLIENT_KEY, makeTempDir, startTestGateway, writeFiles } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const HI = [{ role: 'user' as const, content: 'Hi' }];
const LIMITED = (perMinute: number) => `providers:
  openai:
    keys:
      - key: sk-shared-limit-0001
        max_request_min: ${perMinute}
        max_request_day: 1000
`;

async function chat(url: string, key = CLIENT_KEY): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: HI }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function usage(
  url: string,
): Promise<{ mode: string; overview: { openai: { total_requests: number } } }> {
  const response = await fetch(`${url}/v1/usage`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
  return (await response.json()) as { mode: string; overview: { openai: { total_requests: number } } };
}

describe('memory mode: a restart keeps the day counts', () => {
  let upstream: ProviderEmulator;
  let dir: string;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    dir = makeTempDir('ai-proxy-restart-');
    writeFiles(dir, { 'config.yml': LIMITED(4) });
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start() {
    return startGateway({
      cwd: dir,
      env: { API_KEYS: CLIENT_KEY, OPENAI_BASE_URL: `${upstream.url}/v1`, LOG_LEVEL: 'none' },
      flags: { host: '127.0.0.1', port: 0 },
      logDestination: { write: () => {} },
    });
  }

  it('counts survive a graceful stop and start, limits included', async () => {
    const first = await start();
    expect([await chat(first.url), await chat(first.url), await chat(first.url)]).toEqual([200, 200, 200]);
    await first.stop();

    const second = await start();
    try {
      expect((await usage(second.url)).overview.openai.total_requests).toBe(3);
      // Four a minute: one more fits, the fifth does not, even though this process has seen one.
      expect(await chat(second.url)).toBe(200);
      expect(await chat(second.url)).toBe(429);
      expect(upstream.requests).toHaveLength(4);
    } finally {
      await second.stop();
    }
    expect(existsSync(join(dir, 'logs', 'state', 'key-usage.json'))).toBe(true);
  });
});

const haveRedis = await redisForTests();

describe.runIf(haveRedis)('Redis mode', () => {
  let upstream: ProviderEmulator;
  let prefix: string;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  beforeEach(() => {
    upstream.reset();
    prefix = uniquePrefix('limits');
  });
  afterEach(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('two gateway processes on one Redis let exactly 50 of 200 concurrent requests through', async () => {
    upstream.setDefault({ kind: 'chat', content: 'ok', delayMs: 10 });
    const dir = makeTempDir('ai-proxy-redis-');
    const servers: ServeProcess[] = [];
    try {
      writeFiles(dir, { 'config.yml': LIMITED(50) });
      const ports = [await freePort(), await freePort()];
      for (const port of ports) {
        const server = spawnServe(['--port', String(port)], {
          cwd: dir,
          env: {
            API_KEYS: CLIENT_KEY,
            OPENAI_BASE_URL: `${upstream.url}/v1`,
            REDIS_URL,
            REDIS_KEY_PREFIX: prefix,
            LOG_DIR: join(dir, `logs-${port}`),
          },
        });
        servers.push(server);
        await server.waitForLine((line) => line.includes('ai-proxy listening'));
      }
      expect(servers[0]!.stdoutLines.some((line) => line.includes('key limits shared through Redis'))).toBe(
        true,
      );
      const statuses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => chat(`http://127.0.0.1:${ports[i % 2]}`)),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(50);
      expect(statuses.filter((s) => s === 429)).toHaveLength(150);
      expect(upstream.requests).toHaveLength(50);
      // Both see the one shared count.
      for (const port of ports) {
        const seen = await usage(`http://127.0.0.1:${port}`);
        expect(seen.mode).toBe('redis');
        expect(seen.overview.openai.total_requests).toBe(50);
      }
    } finally {
      for (const server of servers) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a restart keeps the counts: they live in Redis', async () => {
    const env = { OPENAI_BASE_URL: `${upstream.url}/v1`, REDIS_URL, REDIS_KEY_PREFIX: prefix };
    const first = await startTestGateway({ files: { 'config.yml': LIMITED(10) }, env });
    expect(await chat(first.url)).toBe(200);
    expect(await chat(first.url)).toBe(200);
    await first.stop();
    const second = await startTestGateway({ files: { 'config.yml': LIMITED(10) }, env });
    try {
      expect((await usage(second.url)).overview.openai.total_requests).toBe(2);
    } finally {
      await second.stop();
    }
  });
});

function redisServerBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

describe('Redis away', () => {
  let upstream: ProviderEmulator;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('fail open (the default): a warning, and requests are counted locally', async () => {
    const deadPort = await freePort();
    const gw = await startTestGateway({
      files: { 'config.yml': LIMITED(2) },
      env: { OPENAI_BASE_URL: `${upstream.url}/v1`, REDIS_URL: `redis://127.0.0.1:${deadPort}` },
    });
    try {
      expect(gw.processLog.some((line) => line.includes('Redis did not answer at start'))).toBe(true);
      // The local count still holds the limit.
      expect([await chat(gw.url), await chat(gw.url), await chat(gw.url)]).toEqual([200, 200, 429]);
      expect(gw.processLog.some((line) => line.includes('counting key limits in this process'))).toBe(true);
    } finally {
      await gw.stop();
    }
  });

  it('fail closed: 503 no_capacity while Redis is away', async () => {
    const deadPort = await freePort();
    const gw = await startTestGateway({
      files: { 'config.yml': LIMITED(2) },
      env: {
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        REDIS_URL: `redis://127.0.0.1:${deadPort}`,
        REDIS_FAIL_MODE: 'closed',
      },
    });
    try {
      const response = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: HI }),
      });
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('no_capacity');
      expect(body.error.message).toContain('REDIS_FAIL_MODE=closed');
    } finally {
      await gw.stop();
    }
  });

  const binary = redisServerBinary();
  it.runIf(binary !== undefined)(
    'Redis stopping and coming back: local counting meanwhile, then shared again',
    async () => {
      const port = await freePort();
      const startRedis = (): ChildProcess =>
        spawn(binary!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
          stdio: 'ignore',
        });
      const waitFor = async (check: () => Promise<boolean>, what: string) => {
        for (let i = 0; i < 100; i++) {
          if (await check()) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error(`timed out waiting for ${what}`);
      };
      let redis = startRedis();
      const url = `redis://127.0.0.1:${port}`;
      const gw = await startTestGateway({
        files: { 'config.yml': LIMITED(100) },
        env: { OPENAI_BASE_URL: `${upstream.url}/v1`, REDIS_URL: url },
      });
      try {
        const limits = gw.gateway.runtime.keys.store as unknown as { usingRedis: boolean };
        await waitFor(async () => (await chat(gw.url)) === 200 && limits.usingRedis, 'Redis in use');
        redis.kill('SIGKILL');
        await new Promise((resolve) => redis.once('exit', resolve));
        expect(await chat(gw.url)).toBe(200);
        expect(limits.usingRedis).toBe(false);
        expect(gw.processLog.some((line) => line.includes('counting key limits in this process'))).toBe(true);
        redis = startRedis();
        await waitFor(async () => (await chat(gw.url)) === 200 && limits.usingRedis, 'Redis back in use');
        expect(gw.processLog.some((line) => line.includes('Redis is reachable again'))).toBe(true);
        expect((await usage(gw.url)).mode).toBe('redis');
      } finally {
        await gw.stop();
        redis.kill('SIGKILL');
      }
    },
  );
});
