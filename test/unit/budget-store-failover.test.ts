// Redis-mode budgets while Redis is away: fail open counts in this process (limits still hold,
// locally), fail closed refuses every reservation (a 503 for the caller) and view answers
// no_capacity; Redis coming back is picked up on its own and counting is shared again. The test
// runs its own redis-server on a free port, started only once the store has found nothing there.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { FailoverBudgetStore } from '../../src/managed-keys/budget-failover-store.js';
import { MemoryBudgetStore } from '../../src/managed-keys/budget-memory-store.js';
import { RedisBudgetStore } from '../../src/managed-keys/budget-redis-store.js';
import { freePort } from '../support/free-port.js';
import { uniquePrefix } from '../support/redis.js';

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
if (binary === undefined) console.warn('budget failover tests skipped: redis-server is not installed');

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const silent = pino({ level: 'silent' });

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(binary !== undefined)('budget store failover', () => {
  const children: ChildProcess[] = [];
  const stores: FailoverBudgetStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const child of children) child.kill('SIGTERM');
  });

  async function storeOn(port: number, failOpen: boolean): Promise<FailoverBudgetStore> {
    const redis = new RedisBudgetStore({
      url: `redis://127.0.0.1:${port}`,
      prefix: uniquePrefix('budget-failover'),
      commandTimeoutMs: 300,
      onError: () => {},
    });
    const store = new FailoverBudgetStore(redis, new MemoryBudgetStore(), failOpen, silent);
    stores.push(store);
    expect(await redis.connect(300)).toBe(false);
    return store;
  }

  it('fail closed: every reservation is refused as unavailable, view is no_capacity', async () => {
    const store = await storeOn(await freePort(), false);
    const input = { keyId: 'key_c', policy: { budgetDay: 1 }, tokens: 1, cost: 0.1, now: T0 };
    expect(await store.reserve(input)).toEqual({ ok: false, kind: 'unavailable' });
    const viewing = store.view('key_c', {}, T0);
    await expect(viewing).rejects.toBeInstanceOf(GatewayError);
    await expect(viewing).rejects.toMatchObject({ code: 'no_capacity' });
  });

  it('fail open: counts locally while Redis is away, and shares again once it answers', async () => {
    const port = await freePort();
    const store = await storeOn(port, true);
    const policy = { rpm: 100, budgetTotal: 1 };
    const reserve = (cost: number, now = T0) =>
      store.reserve({ keyId: 'key_o', policy, tokens: 10, cost, now });

    const local = await reserve(0.6);
    expect(local.ok).toBe(true);
    // The local count holds the budget: 0.6 in flight leaves room for 0.4, not 0.5.
    expect(await reserve(0.5)).toMatchObject({ ok: false, kind: 'budget', budget: 'total', spentUsd: 0.6 });
    if (!local.ok) throw new Error('refused');
    await store.settle(local.reservation, { tokens: 10, cost: 0.2 });
    expect(await store.view('key_o', policy, T0)).toMatchObject({
      spentTotal: 0.2,
      remaining: { total: 0.8 },
    });

    const server = spawn(binary!, ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    children.push(server);
    await waitFor(() => store.redis.ready, 'the reconnection');
    await waitFor(async () => {
      await store.view('key_o', policy, T0);
      return store.usingRedis;
    }, 'the probe to switch back');
    // Back on Redis: its own (empty) count for this key; a reservation made there settles there.
    const shared = await reserve(0.9, T0 + 1000);
    expect(shared.ok).toBe(true);
    if (!shared.ok) throw new Error('refused');
    expect(store.local.holds(shared.reservation)).toBe(false);
    await store.settle(shared.reservation, { tokens: 10, cost: 1 });
    expect(await store.view('key_o', policy, T0 + 1000)).toMatchObject({
      spentTotal: 1,
      remaining: { total: 0 },
    });
    expect(await reserve(0.000_000_001, T0 + 2000)).toMatchObject({ ok: false, kind: 'budget' });
  });
});
