// Issue 15's measurement: two budget-store instances (two connections) sharing one Redis, 200
// concurrent reserve → (simulated call) → settle pairs, arriving within 40 ms, against a $1 lifetime budget. With estimates
// equal to the real cost the overspend is exactly 0; with estimates below it, the overspend stays
// within what the reservations in flight under-reserved (peak in flight × the shortfall of one);
// with estimates above it, nothing is overspent and the settlements give the surplus back.
// bench/budget-overspend.mjs prints the same figures for other sizes.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisBudgetStore } from '../../src/managed-keys/budget-redis-store.js';
import { NANOS_PER_USD, toNanos } from '../../src/managed-keys/budget-store.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();

interface Figures {
  admitted: number;
  refused: number;
  /** Dollars: the real cost of every admitted request, and what the store says was spent. */
  spent: number;
  storeSpent: number;
  overspend: number;
  /** Most reservations that may have been in flight at once (client-side intervals, an upper bound). */
  peakInFlight: number;
  /** peakInFlight × (real - estimate): what the in-flight reservations can have under-reserved. */
  bound: number;
}

/** Most intervals open at one instant; an end at the same instant as a start counts as still open. */
function peakOverlap(intervals: [start: number, end: number][]): number {
  const events = intervals.flatMap(([start, end]): [number, number][] => [
    [start, 1],
    [end, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let open = 0;
  let peak = 0;
  for (const [, step] of events) {
    open += step;
    peak = Math.max(peak, open);
  }
  return peak;
}

async function measure(
  stores: RedisBudgetStore[],
  keyId: string,
  budget: number,
  estimate: number,
  actual: number,
  /** The second half starts only once the first half has settled (deterministic reuse of a surplus). */
  inTwoWaves = false,
  requests = 200,
): Promise<Figures> {
  const policy = { budgetTotal: budget };
  const intervals: [number, number][] = [];
  let admitted = 0;
  let spentNanos = 0;
  let firstWaveDone: () => void = () => {};
  const firstWave = new Promise<void>((resolve) => {
    firstWaveDone = resolve;
  });
  let firstWaveLeft = requests / 2;
  const pair = async (i: number): Promise<void> => {
    const store = stores[i % stores.length]!;
    // Arrivals spread over 40 ms, so later reservations meet earlier settlements.
    await new Promise((resolve) => setTimeout(resolve, (i * 13) % 40));
    const start = performance.now();
    const result = await store.reserve({ keyId, policy, tokens: 100, cost: estimate, now: Date.now() });
    if (!result.ok) return;
    admitted += 1;
    // The upstream call: 0-15 ms, so settlements interleave with later reservations.
    await new Promise((resolve) => setTimeout(resolve, (i * 7) % 16));
    await store.settle(result.reservation, { tokens: 100, cost: actual });
    spentNanos += toNanos(actual);
    intervals.push([start, performance.now()]);
  };
  await Promise.all(
    Array.from({ length: requests }, async (_, i) => {
      if (inTwoWaves && i >= requests / 2) await firstWave;
      await pair(i);
      if (i < requests / 2 && --firstWaveLeft === 0) firstWaveDone();
    }),
  );
  const view = await stores[0]!.view(keyId, policy, Date.now());
  expect(view.inFlight.requests).toBe(0);
  const peakInFlight = peakOverlap(intervals);
  const spent = spentNanos / NANOS_PER_USD;
  return {
    admitted,
    refused: requests - admitted,
    spent,
    storeSpent: view.spentTotal,
    overspend: Math.max(0, spentNanos - toNanos(budget)) / NANOS_PER_USD,
    peakInFlight,
    bound: (peakInFlight * Math.max(0, toNanos(actual) - toNanos(estimate))) / NANOS_PER_USD,
  };
}

describe.runIf(haveRedis)('budgets across two instances sharing Redis, 200 concurrent requests', () => {
  const prefix = uniquePrefix('budget-concurrency');
  const stores = [0, 1].map(
    () => new RedisBudgetStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000, onError: () => {} }),
  );

  afterAll(async () => {
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
    await Promise.all(stores.map((store) => store.close()));
  });

  it('(a) exact estimates: exactly the budget is spent, overspend 0', async () => {
    for (const store of stores) expect(await store.connect(2000)).toBe(true);
    const figures = await measure(stores, 'key_exact', 1, 0.05, 0.05);
    console.log('budget $1, estimate = real = $0.05:', figures);
    expect(figures).toMatchObject({ admitted: 20, refused: 180, spent: 1, storeSpent: 1, overspend: 0 });
  });

  it('(b) estimates below the real cost: overspend within the in-flight shortfall', async () => {
    const figures = await measure(stores, 'key_under', 1, 0.04, 0.05);
    console.log('budget $1, estimate $0.04, real $0.05:', figures);
    expect(figures.storeSpent).toBeCloseTo(figures.spent, 9);
    expect(figures.overspend).toBeLessThanOrEqual(figures.bound);
    // Never more than the whole budget's worth of under-reservation: 25 reservations of $0.04.
    expect(figures.admitted).toBeLessThanOrEqual(25);
  });

  it('(c) estimates above the real cost: no overspend, settlements give the surplus back to a second wave', async () => {
    const figures = await measure(stores, 'key_over', 1, 0.08, 0.05, true);
    console.log('budget $1, estimate $0.08, real $0.05:', figures);
    expect(figures.overspend).toBe(0);
    expect(figures.storeSpent).toBeCloseTo(figures.spent, 9);
    // The first wave's 12 settle at $0.60, leaving $0.40: five more of $0.08 fit.
    expect(figures.admitted).toBeGreaterThanOrEqual(17);
    expect(figures.spent).toBeLessThanOrEqual(1);
  });
});
