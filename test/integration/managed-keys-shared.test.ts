// Managed-key budgets across instances and restarts: two gateways sharing one Redis hold a small
// budget under 200 concurrent requests, and a single gateway's counters survive a graceful restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const CONFIG = `prices:
  gpt-4o-mini: { prompt_1k: 1, completion_1k: 2 }
`;

const haveRedis = await redisForTests();

const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 10,
});
/** The gateway's estimate of this body: a token per 4 bytes, plus max_tokens of output. */
const PROMPT_ESTIMATE = Math.ceil(BODY.length / 4);
const ESTIMATED_COST = (PROMPT_ESTIMATE * 1 + 10 * 2) / 1000;

async function chat(url: string, key: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: BODY,
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

describe.runIf(haveRedis)('a managed key’s budget held by two instances sharing Redis', () => {
  let upstream: ProviderEmulator;
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    const env = {
      OPENAI_API_KEY: 'sk-shared-budget-0001',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      REDIS_URL,
      REDIS_KEY_PREFIX: uniquePrefix('budgets'),
      // A loaded test machine must not make Redis look away (each instance would then count alone).
      REDIS_COMMAND_TIMEOUT_MS: '5000',
    };
    first = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
    second = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await upstream?.close();
  });

  async function sharedKey(budgetTotal: number) {
    const created = await first.gateway.runtime.managedKeys.create({
      name: 'shared',
      policy: { budgetTotal },
    });
    // The other instance sees the key within a second (the key store lives in Redis too).
    const deadline = Date.now() + 3000;
    while (second.gateway.runtime.managedKeys.findByHash(created.record.hash) === undefined) {
      if (Date.now() > deadline) throw new Error('the second instance never saw the key');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return created;
  }

  /** The key's counters once every reservation has been settled (accounting writes to Redis after the log flush). */
  async function settledView(id: string, budgetTotal: number) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const view = await first.gateway.runtime.budgets.store.view(id, { budgetTotal }, Date.now());
      if (view.inFlight.requests === 0 || Date.now() > deadline) return view;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function burst(key: string) {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => chat(i % 2 === 0 ? first.url : second.url, key)),
    );
    await first.requestLog();
    await second.requestLog();
    return {
      admitted: results.filter((r) => r.status === 200).length,
      refused: results.filter((r) => r.code === 'budget_exceeded').length,
    };
  }

  it('with exact estimates, 200 concurrent requests over both instances spend the budget and not a cent more', async () => {
    const budget = ESTIMATED_COST * 25;
    const created = await sharedKey(budget);
    upstream.setDefault({
      kind: 'chat',
      content: 'ok',
      usage: { prompt_tokens: PROMPT_ESTIMATE, completion_tokens: 10 },
    });
    const { admitted, refused } = await burst(created.key);
    const view = await settledView(created.record.id, budget);
    console.log(
      `exact estimates: budget $${budget.toFixed(4)}, ${admitted} admitted, ${refused} refused, spent $${view.spentTotal.toFixed(6)}`,
    );
    expect(admitted).toBe(25);
    expect(refused).toBe(175);
    expect(view.inFlight.requests).toBe(0);
    expect(view.spentTotal).toBeLessThanOrEqual(budget + 1e-9);
  });

  it('with low estimates, the overspend stays within what the admitted requests under-reserved', async () => {
    const created = await sharedKey(1);
    // Each answer really costs 100 × $1/1k + 10 × $2/1k = $0.12, more than its estimate.
    upstream.setDefault({
      kind: 'chat',
      content: 'ok',
      usage: { prompt_tokens: 100, completion_tokens: 10 },
    });
    const { admitted, refused } = await burst(created.key);
    const view = await settledView(created.record.id, 1);
    console.log(
      `low estimates: budget $1.00, ${admitted} admitted, ${refused} refused, spent $${view.spentTotal.toFixed(4)}`,
    );
    expect(admitted + refused).toBe(200);
    expect(view.spentTotal).toBeCloseTo(admitted * 0.12, 6);
    expect(view.spentTotal - 1).toBeLessThanOrEqual(admitted * (0.12 - ESTIMATED_COST) + 1e-9);
  });
});

describe('managed-key counters across a graceful restart', () => {
  it('keeps the spend of a key after the gateway stops and starts again', async () => {
    const upstream = await ProviderEmulator.start();
    const state = mkdtempSync(join(tmpdir(), 'ai-proxy-budget-state-'));
    const env = {
      OPENAI_API_KEY: 'sk-restart-0001',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      USAGE_STATE_FILE: join(state, 'key-usage.json'),
      KEYS_DB_PATH: join(state, 'keys.sqlite3'),
    };
    try {
      const before = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
      const created = await before.gateway.runtime.managedKeys.create({
        name: 'restart',
        policy: { budgetTotal: 5 },
      });
      upstream.enqueue({
        kind: 'chat',
        content: 'ok',
        usage: { prompt_tokens: 1000, completion_tokens: 500 },
      });
      expect((await chat(before.url, created.key)).status).toBe(200);
      await before.stop();

      const after = await startTestGateway({ env, files: { 'config.yml': CONFIG } });
      try {
        const view = await after.gateway.runtime.budgets.store.view(
          created.record.id,
          { budgetTotal: 5 },
          Date.now(),
        );
        // 1000 × $1/1k + 500 × $2/1k.
        expect(view.spentTotal).toBeCloseTo(2, 6);
        upstream.enqueue({ kind: 'chat', content: 'ok' });
        expect((await chat(after.url, created.key)).status).toBe(200);
      } finally {
        await after.stop();
      }
    } finally {
      await upstream.close();
      rmSync(state, { recursive: true, force: true });
    }
  });
});
