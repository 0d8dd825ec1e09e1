// The Redis script and the memory store must make the same decisions: one pseudo-random sequence
// of selections, settlements and cooldowns over keys with every kind of limit, applied to both,
// must give the same answers and the same usage.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeySpec, Lease } from '../../src/keys/limit-store.js';
import { MemoryLimitStore } from '../../src/keys/memory-limit-store.js';
import { RedisLimitStore } from '../../src/keys/redis-limit-store.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const KEYS: KeySpec[] = [
  { id: 'a', limits: { max_request_min: 3, max_request_day: 40 } },
  { id: 'b', limits: { max_request_min: 5, max_token_min: 900, max_request_day: 50 } },
  { id: 'c', limits: { max_token_day: 3000 } },
];

describe.runIf(haveRedis)('limit store parity: Redis script and memory store', () => {
  const prefix = uniquePrefix('parity');
  const redis = new RedisLimitStore({ url: REDIS_URL, prefix, commandTimeoutMs: 500, onError: () => {} });

  afterAll(async () => {
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
    await redis.close();
  });

  it('decides alike over 400 steps across two UTC days', async () => {
    expect(await redis.connect(2000)).toBe(true);
    const memory = new MemoryLimitStore();
    const next = random(42);
    let now = Date.UTC(2026, 10, 22, 23, 50, 0);
    const leases: [Lease, Lease][] = [];
    for (let step = 0; step < 400; step++) {
      now += Math.floor(next() * 4000);
      const roll = next();
      if (roll < 0.7) {
        const exclude = new Set(next() < 0.2 ? ['a'] : []);
        const estimate = Math.floor(next() * 400);
        const input = { provider: 'p', keys: KEYS, exclude, estimate, gapPercent: 5, now };
        const m = memory.select(input);
        const r = await redis.select(input);
        expect(r.ok, `step ${step}`).toBe(m.ok);
        if (m.ok && r.ok) {
          expect(r.index, `step ${step}`).toBe(m.index);
          leases.push([m.lease, r.lease]);
        } else if (!m.ok && !r.ok) {
          expect(r.freeInMs, `step ${step}`).toBe(m.freeInMs);
        }
      } else if (roll < 0.9 && leases.length > 0) {
        const [m, r] = leases.splice(Math.floor(next() * leases.length), 1)[0]!;
        const total = Math.floor(next() * 300);
        const settlement = {
          promptTokens: total,
          completionTokens: 0,
          totalTokens: total,
          cost: 0,
          clientHash: null,
        };
        memory.settle(m, settlement);
        redis.settle(r, settlement);
      } else {
        const id = KEYS[Math.floor(next() * KEYS.length)]!.id;
        // Cooldowns are set from the wall clock; both stores get the same absolute end.
        const until = Date.now() + 1000 + Math.floor(next() * 3000);
        memory.cool(id, until, 'rate-limited');
        redis.cool(id, until, 'rate-limited');
        await new Promise((resolve) => setTimeout(resolve, 5));
        // Time in the sequence is simulated; a cooldown relative to it would not match Redis TTLs.
        memory.clearCooldown(id);
        redis.clearCooldown(id);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const m = memory.viewNow(['a', 'b', 'c'], now);
    const r = await redis.view(['a', 'b', 'c'], now);
    for (const id of ['a', 'b', 'c']) {
      const mk = m.keys.get(id)!;
      const rk = r.keys.get(id)!;
      expect(rk.requestsDay, id).toBe(mk.requestsDay);
      expect(rk.requestsMinute, id).toBe(mk.requestsMinute);
      expect(rk.tokensDay, id).toBe(mk.tokensDay);
      expect(rk.tokensMinute, id).toBe(mk.tokensMinute);
    }
  });
});
