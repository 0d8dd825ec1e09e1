// The Redis scripts, the SQLite store and the memory store must make the same decisions: one
// pseudo-random sequence of reservations, settlements, releases (some twice) and views over keys
// with every kind of limit and budget, across a UTC day and month boundary and past the reservation
// TTL, applied to the memory store and another, must give the same answers and the same usage.
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
  KeyUsageView,
  Reservation,
  ReserveResult,
} from '../../src/managed-keys/budget-store.js';
import type { KeyPolicy } from '../../src/managed-keys/types.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const KEYS: [string, KeyPolicy][] = [
  ['a', { rpm: 4, rpd: 60, budgetDay: 0.5 }],
  ['b', { tpm: 1500, tpd: 9000, budgetMonth: 1.2 }],
  ['c', { rpm: 6, tpm: 2000, budgetDay: 0.4, budgetMonth: 0.9, budgetTotal: 1.5 }],
  ['d', {}],
];

/** A result without the reservation's random id. */
function comparable(result: ReserveResult): unknown {
  if (!result.ok) return result;
  const { id: _id, ...reservation } = result.reservation;
  return { ...result, reservation };
}

function comparableView(view: KeyUsageView): unknown {
  return view;
}

const TTL = 45_000;

/** Runs the sequence on a fresh memory store and `other`, expecting every answer alike. */
async function decideAlike(other: BudgetStore): Promise<void> {
  const memory = new MemoryBudgetStore({ reservationTtlMs: TTL });
  const next = random(15);
  let now = Date.UTC(2027, 0, 31, 23, 40, 0);
  const open: [Reservation, Reservation][] = [];
  const finished: [Reservation, Reservation][] = [];
  const tally = { admitted: 0, rate: 0, budget: 0, settled: 0, released: 0, repeated: 0, views: 0 };
  for (let step = 0; step < 1500; step++) {
    now += Math.floor(next() * 3000);
    const roll = next();
    if (roll < 0.6) {
      const [keyId, policy] = KEYS[Math.floor(next() * KEYS.length)]!;
      const input = {
        keyId,
        policy,
        tokens: Math.floor(next() * 600),
        // Costs with many decimals: every store rounds them to the same nano-dollars.
        cost: next() < 0.1 ? 0 : next() * 0.08,
        now,
      };
      const m = memory.reserve(input);
      const r = await other.reserve(input);
      expect(comparable(r), `step ${step}`).toEqual(comparable(m));
      if (m.ok && r.ok) {
        open.push([m.reservation, r.reservation]);
        tally.admitted++;
      } else if (!m.ok) {
        tally[m.kind === 'rate' ? 'rate' : 'budget']++;
      }
    } else if (roll < 0.8 && open.length > 0) {
      const pair = open.splice(Math.floor(next() * open.length), 1)[0]!;
      const actual = { tokens: Math.floor(next() * 800), cost: next() * 0.1 };
      memory.settle(pair[0], actual);
      await other.settle(pair[1], actual);
      finished.push(pair);
      tally.settled++;
    } else if (roll < 0.88 && open.length > 0) {
      const pair = open.splice(Math.floor(next() * open.length), 1)[0]!;
      memory.release(pair[0]);
      await other.release(pair[1]);
      finished.push(pair);
      tally.released++;
    } else if (roll < 0.92 && finished.length > 0) {
      // A second settle or release of something already finished counts nothing in either store.
      const [m, r] = finished[Math.floor(next() * finished.length)]!;
      const actual = { tokens: 5000, cost: 5 };
      memory.settle(m, actual);
      await other.settle(r, actual);
      memory.release(m);
      await other.release(r);
      tally.repeated++;
    } else {
      const [keyId, policy] = KEYS[Math.floor(next() * KEYS.length)]!;
      expect(comparableView(await other.view(keyId, policy, now)), `step ${step}`).toEqual(
        comparableView(memory.view(keyId, policy, now)),
      );
      tally.views++;
    }
  }
  for (const [keyId, policy] of KEYS) {
    expect(await other.view(keyId, policy, now), keyId).toEqual(memory.view(keyId, policy, now));
  }
  // The sequence reached every kind of outcome.
  expect(tally.admitted).toBeGreaterThan(100);
  expect(tally.rate).toBeGreaterThan(10);
  expect(tally.budget).toBeGreaterThan(10);
  expect(tally.repeated).toBeGreaterThan(10);
}

describe('budget store parity: SQLite store and memory store', () => {
  it('decides alike over 1500 steps across a UTC day and month boundary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ai-proxy-budget-parity-'));
    const sqlite = new SqliteBudgetStore({
      path: join(dir, 'budgets.sqlite3'),
      reservationTtlMs: TTL,
      onError: (error) => {
        throw error;
      },
    });
    try {
      await decideAlike(sqlite);
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(haveRedis)('budget store parity: Redis scripts and memory store', () => {
  const prefix = uniquePrefix('budget-parity');
  const redis = new RedisBudgetStore({
    url: REDIS_URL,
    prefix,
    commandTimeoutMs: 2000,
    onError: () => {},
    reservationTtlMs: TTL,
  });

  afterAll(async () => {
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
    await redis.close();
  });

  it('decides alike over 1500 steps across a UTC day and month boundary', async () => {
    expect(await redis.connect(2000)).toBe(true);
    await decideAlike(redis);
  });
});
