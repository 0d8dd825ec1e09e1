// The client-key budget stores at every boundary: each rate limit and each budget admits a request
// that lands exactly on it and refuses the next, with the reason and when it frees; UTC day and
// month rollover on an injected clock; in-flight reservations counted; settle and release
// replacing or returning estimates, once only; forgotten reservations. The same tests run against
// the memory store, the SQLite store and the Redis store (the Lua scripts), so all decide alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBudgetStore } from '../../src/managed-keys/budget-memory-store.js';
import { RedisBudgetStore } from '../../src/managed-keys/budget-redis-store.js';
import { SqliteBudgetStore } from '../../src/managed-keys/budget-sqlite-store.js';
import type {
  BudgetStore,
  Reservation,
  ReserveInput,
  ReserveResult,
} from '../../src/managed-keys/budget-store.js';
import type { KeyPolicy } from '../../src/managed-keys/types.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const prefix = uniquePrefix('budget');
const redisStores: RedisBudgetStore[] = [];
const sqliteDir = mkdtempSync(join(tmpdir(), 'ai-proxy-budget-'));
const sqliteStores: SqliteBudgetStore[] = [];

afterAll(async () => {
  await Promise.all(sqliteStores.map((store) => store.close()));
  rmSync(sqliteDir, { recursive: true, force: true });
  if (!haveRedis) return;
  const client = new Redis(REDIS_URL);
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
  client.disconnect();
  await Promise.all(redisStores.map((store) => store.close()));
});

let keyCounter = 0;

interface Maker {
  name: string;
  run: boolean;
  make: (reservationTtlMs?: number) => Promise<BudgetStore>;
}

const makers: Maker[] = [
  {
    name: 'memory',
    run: true,
    make: async (reservationTtlMs) => new MemoryBudgetStore({ reservationTtlMs }),
  },
  {
    name: 'sqlite',
    run: true,
    make: async (reservationTtlMs) => {
      const store = new SqliteBudgetStore({
        path: join(sqliteDir, `budgets-${sqliteStores.length}.sqlite3`),
        reservationTtlMs,
        onError: (error) => {
          throw error;
        },
      });
      sqliteStores.push(store);
      return store;
    },
  },
  {
    name: 'redis',
    run: haveRedis,
    make: async (reservationTtlMs) => {
      const store = new RedisBudgetStore({
        url: REDIS_URL,
        prefix,
        commandTimeoutMs: 2000,
        onError: () => {},
        reservationTtlMs,
      });
      redisStores.push(store);
      expect(await store.connect(2000)).toBe(true);
      return store;
    },
  },
];

/** A store and a fresh key id, with shorthands that await either kind of store. */
async function setup(maker: Maker, policy: KeyPolicy, reservationTtlMs?: number) {
  const store = await maker.make(reservationTtlMs);
  const keyId = `key_${maker.name}_${++keyCounter}`;
  const reserve = async (
    now: number,
    tokens = 0,
    cost = 0,
    extra: Partial<ReserveInput> = {},
  ): Promise<ReserveResult> => store.reserve({ keyId, policy, tokens, cost, now, ...extra });
  const admitted = async (now: number, tokens = 0, cost = 0): Promise<Reservation> => {
    const result = await reserve(now, tokens, cost);
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
    return result.reservation;
  };
  const view = async (now: number) => store.view(keyId, policy, now);
  return { store, keyId, reserve, admitted, view };
}

for (const maker of makers) {
  describe.runIf(maker.run)(`${maker.name} budget store`, () => {
    it('rpm: the limit-th request in a minute passes, the next waits for the oldest to leave', async () => {
      const s = await setup(maker, { rpm: 3 });
      await s.admitted(T0);
      await s.admitted(T0 + 10_000);
      await s.admitted(T0 + 20_000);
      expect(await s.reserve(T0 + 30_000)).toEqual({
        ok: false,
        kind: 'rate',
        limit: 'rpm',
        retryAfterMs: 30_000,
      });
      // The window slides at one-second resolution: the first request leaves at T0 + 60 s.
      expect((await s.reserve(T0 + 59_999)).ok).toBe(false);
      expect((await s.reserve(T0 + 60_000)).ok).toBe(true);
    });

    it('rpd: the limit-th request in a UTC day passes, the next waits for midnight', async () => {
      const s = await setup(maker, { rpd: 2 });
      await s.admitted(T0);
      await s.admitted(T0 + 3_600_000);
      expect(await s.reserve(T0 + 7_200_000)).toEqual({
        ok: false,
        kind: 'rate',
        limit: 'rpd',
        retryAfterMs: 10 * 3_600_000,
      });
      expect((await s.reserve(Date.UTC(2026, 10, 22, 23, 59, 59, 999))).ok).toBe(false);
      expect((await s.reserve(Date.UTC(2026, 10, 23, 0, 0, 0))).ok).toBe(true);
    });

    it('tpm: estimates count; exactly the limit passes, one token more is refused', async () => {
      const s = await setup(maker, { tpm: 100 });
      const first = await s.admitted(T0, 60);
      await s.admitted(T0 + 5000, 40);
      expect(await s.reserve(T0 + 6000, 1)).toEqual({
        ok: false,
        kind: 'rate',
        limit: 'tpm',
        retryAfterMs: 54_000,
      });
      // A request without tokens still fits.
      expect((await s.reserve(T0 + 6000, 0)).ok).toBe(true);
      // The first used 59 tokens, not 60: one token is free again.
      await s.store.settle(first, { tokens: 59, cost: 0 });
      expect((await s.reserve(T0 + 7000, 2)).ok).toBe(false);
      expect((await s.reserve(T0 + 7000, 1)).ok).toBe(true);
    });

    it('tpm: a request larger than the whole limit is refused even in an empty window', async () => {
      const s = await setup(maker, { tpm: 100 });
      expect(await s.reserve(T0, 101)).toEqual({
        ok: false,
        kind: 'rate',
        limit: 'tpm',
        retryAfterMs: 60_000,
        exceedsLimit: true,
      });
      expect((await s.reserve(T0, 100)).ok).toBe(true);
    });

    it('tpd: the day counts real tokens after settlement, and starts over at UTC midnight', async () => {
      const s = await setup(maker, { tpd: 1000 });
      const a = await s.admitted(T0, 500);
      await s.admitted(T0 + 120_000, 500);
      const refused = await s.reserve(T0 + 180_000, 1);
      expect(refused).toEqual({
        ok: false,
        kind: 'rate',
        limit: 'tpd',
        retryAfterMs: 12 * 3_600_000 - 180_000,
      });
      await s.store.settle(a, { tokens: 400, cost: 0 });
      expect((await s.reserve(T0 + 240_000, 101)).ok).toBe(false);
      expect((await s.reserve(T0 + 240_000, 100)).ok).toBe(true);
      expect((await s.reserve(Date.UTC(2026, 10, 23, 0, 0, 0), 1000)).ok).toBe(true);
    });

    it('several rate limits over: the one that frees last is named', async () => {
      const s = await setup(maker, { rpm: 1, rpd: 1 });
      await s.admitted(T0);
      const refused = await s.reserve(T0 + 1000);
      expect(refused).toMatchObject({ ok: false, kind: 'rate', limit: 'rpd' });
    });

    it('a limit of 0 refuses every request, saying waiting will not help', async () => {
      const s = await setup(maker, { rpm: 0 });
      expect(await s.reserve(T0)).toEqual({
        ok: false,
        kind: 'rate',
        limit: 'rpm',
        retryAfterMs: 60_000,
        exceedsLimit: true,
      });
    });

    it('budgetDay: ten requests of $0.10 fill $1.00 exactly; a nano-dollar more is refused until midnight', async () => {
      const s = await setup(maker, { budgetDay: 1 });
      let last: ReserveResult | undefined;
      for (let i = 0; i < 10; i++) last = await s.reserve(T0 + i, 10, 0.1);
      expect(last).toMatchObject({ ok: true, remaining: { day: 0 } });
      expect(await s.reserve(T0 + 20, 0, 0.000_000_001)).toEqual({
        ok: false,
        kind: 'budget',
        budget: 'day',
        limitUsd: 1,
        spentUsd: 1,
        resetAt: Date.UTC(2026, 10, 23),
      });
      // A request estimated at nothing still fits a full budget.
      expect((await s.reserve(T0 + 21, 0, 0)).ok).toBe(true);
      expect((await s.reserve(Date.UTC(2026, 10, 23, 0, 0, 0), 0, 1)).ok).toBe(true);
    });

    it('budgetMonth: the calendar month in UTC, starting over on the 1st', async () => {
      const s = await setup(maker, { budgetMonth: 2 });
      const jan31 = Date.UTC(2027, 0, 31, 23, 59, 0);
      const first = await s.reserve(jan31, 0, 1.5);
      expect(first).toMatchObject({ ok: true, remaining: { month: 0.5 } });
      expect((await s.reserve(jan31 + 1000, 0, 0.5)).ok).toBe(true);
      expect(await s.reserve(jan31 + 2000, 0, 0.01)).toEqual({
        ok: false,
        kind: 'budget',
        budget: 'month',
        limitUsd: 2,
        spentUsd: 2,
        resetAt: Date.UTC(2027, 1, 1),
      });
      expect(await s.reserve(Date.UTC(2027, 1, 1, 0, 0, 0), 0, 2)).toMatchObject({
        ok: true,
        remaining: { month: 0 },
      });
    });

    it('budgetTotal: never starts over; the budget that frees last is named', async () => {
      const s = await setup(maker, { budgetTotal: 3, budgetDay: 2, budgetMonth: 2 });
      await s.admitted(Date.UTC(2027, 0, 31, 12), 0, 2);
      await s.admitted(Date.UTC(2027, 1, 1, 12), 0, 1);
      expect(await s.reserve(Date.UTC(2027, 2, 1), 0, 0.5)).toEqual({
        ok: false,
        kind: 'budget',
        budget: 'total',
        limitUsd: 3,
        spentUsd: 3,
        resetAt: null,
      });
      // Day and month are exhausted together: the month starts over later, so it is named.
      const s2 = await setup(maker, { budgetDay: 1, budgetMonth: 1 });
      await s2.admitted(T0, 0, 1);
      expect(await s2.reserve(T0 + 1, 0, 0.1)).toMatchObject({ kind: 'budget', budget: 'month' });
    });

    it('a budget counts reservations in flight; a release gives the cost back, a settle replaces it', async () => {
      const s = await setup(maker, { budgetDay: 1, rpm: 10 });
      const a = await s.admitted(T0, 100, 0.6);
      expect(await s.reserve(T0 + 1, 100, 0.5)).toMatchObject({ ok: false, budget: 'day', spentUsd: 0.6 });
      const inFlight = await s.view(T0 + 2);
      expect(inFlight).toMatchObject({
        requestsMinute: 1,
        tokensMinute: 100,
        spentDay: 0,
        inFlight: { requests: 1, tokens: 100, cost: 0.6 },
        remaining: { day: 0.4 },
      });
      await s.store.release(a);
      const b = await s.admitted(T0 + 3, 100, 0.5);
      await s.store.settle(b, { tokens: 250, cost: 0.7 });
      const after = await s.view(T0 + 4);
      expect(after).toMatchObject({
        // The released request stays counted against rpm; its tokens went back.
        requestsMinute: 2,
        tokensMinute: 250,
        requestsDay: 2,
        tokensDay: 250,
        spentDay: 0.7,
        spentMonth: 0.7,
        spentTotal: 0.7,
        inFlight: { requests: 0, tokens: 0, cost: 0 },
        remaining: { day: expect.closeTo(0.3, 9) },
      });
      expect((await s.reserve(T0 + 5, 0, 0.300_000_001)).ok).toBe(false);
      expect((await s.reserve(T0 + 5, 0, 0.3)).ok).toBe(true);
    });

    it('settle and release are idempotent: a second call, or one after the other, counts nothing', async () => {
      const s = await setup(maker, { budgetTotal: 10 });
      const a = await s.admitted(T0, 100, 1);
      await s.store.settle(a, { tokens: 300, cost: 3 });
      await s.store.settle(a, { tokens: 300, cost: 3 });
      await s.store.release(a);
      const b = await s.admitted(T0 + 1, 100, 1);
      await s.store.release(b);
      await s.store.release(b);
      await s.store.settle(b, { tokens: 999, cost: 5 });
      expect(await s.view(T0 + 2)).toMatchObject({ tokensDay: 300, spentTotal: 3, remaining: { total: 7 } });
    });

    it('a settlement counts in the periods of its reservation, not in the day it arrives', async () => {
      const s = await setup(maker, { budgetDay: 1, budgetMonth: 5 });
      const lateEvening = Date.UTC(2026, 10, 22, 23, 59, 59);
      const a = await s.admitted(lateEvening, 100, 0.5);
      const nextDay = Date.UTC(2026, 10, 23, 0, 0, 1);
      await s.admitted(nextDay, 0, 0.9);
      await s.store.settle(a, { tokens: 100, cost: 0.8 });
      const view = await s.view(nextDay + 1);
      expect(view).toMatchObject({
        day: '2026-11-23',
        month: '2026-11',
        tokensDay: 0,
        inFlight: { requests: 1 },
      });
      expect(view.spentMonth).toBeCloseTo(0.8, 9);
      expect(view.remaining).toEqual({ day: expect.closeTo(0.1, 9), month: expect.closeTo(3.3, 9) });
      expect((await s.reserve(nextDay + 2, 0, 0.1)).ok).toBe(true);
    });

    it('a reservation never settled is forgotten after its time to live and stays counted at its estimate', async () => {
      const s = await setup(maker, { budgetTotal: 1 }, 10_000);
      const a = await s.admitted(T0, 10, 0.4);
      expect((await s.view(T0 + 9_999)).inFlight.requests).toBe(1);
      await s.admitted(T0 + 10_001, 10, 0.1);
      const view = await s.view(T0 + 10_002);
      expect(view).toMatchObject({ spentTotal: 0.4, inFlight: { requests: 1, cost: 0.1 } });
      // Too late to change anything.
      await s.store.settle(a, { tokens: 0, cost: 0 });
      expect((await s.view(T0 + 10_003)).spentTotal).toBe(0.4);
      expect((await s.reserve(T0 + 10_004, 0, 0.500_000_001)).ok).toBe(false);
    });

    it('absurd estimates are counted, capped, never an error: a budget refuses them', async () => {
      const s = await setup(maker, { budgetTotal: 1_000_000 });
      expect(await s.reserve(T0, Number.POSITIVE_INFINITY, 1e12)).toMatchObject({
        ok: false,
        budget: 'total',
      });
      const free = await setup(maker, { tpd: 1e18 });
      const r = await free.reserve(T0, 1e17, Number.POSITIVE_INFINITY);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      // A settlement without a usable cost counts nothing for it.
      await free.store.settle(r.reservation, { tokens: 10, cost: Number.NaN });
      expect(await free.view(T0 + 1)).toMatchObject({ tokensDay: 10, spentTotal: 0 });
    });

    it('keys are counted apart; a key without a policy is never refused', async () => {
      const s = await setup(maker, { rpm: 1 });
      await s.admitted(T0);
      expect((await s.reserve(T0 + 1)).ok).toBe(false);
      expect(
        (
          await s.store.reserve({
            keyId: `${s.keyId}-other`,
            policy: { rpm: 1 },
            tokens: 0,
            cost: 0,
            now: T0,
          })
        ).ok,
      ).toBe(true);
      for (let i = 0; i < 50; i++) {
        const r = await s.store.reserve({
          keyId: `${s.keyId}-free`,
          policy: {},
          tokens: 1e6,
          cost: 100,
          now: T0,
        });
        expect(r).toMatchObject({ ok: true, remaining: {} });
      }
    });
  });
}
