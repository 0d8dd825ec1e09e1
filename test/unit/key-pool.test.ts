import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { KeyPools, NO_KEY } from '../../src/keys/key-pool.js';

function provider(keys: string[], keyOptional = false): ProviderConfig {
  return {
    name: 'openai',
    protocol: 'openai',
    baseUrl: 'http://127.0.0.1:1/v1',
    auth: { header: 'authorization', prefix: 'Bearer ' },
    headers: {},
    families: [],
    aliases: [],
    keys: keys.map((key) => ({ id: `id-${key}`, key, limits: {} })),
    keyOptional,
    configured: true,
    defaultModel: undefined,
    models: [],
    builtin: true,
  };
}

describe('key pools', () => {
  it('rotate across keys and skip keys already tried in this request', () => {
    const pools = new KeyPools();
    const p = provider(['a', 'b', 'c']);
    expect([1, 2, 3, 4].map(() => pools.pick(p, new Set())?.key)).toEqual(['a', 'b', 'c', 'a']);
    expect(pools.pick(p, new Set(['id-b', 'id-c']))?.key).toBe('a');
    expect(pools.pick(p, new Set(['id-a', 'id-b', 'id-c']))).toBeUndefined();
  });

  it('cool a rate-limited key down for Retry-After, then use it again', () => {
    let now = 1_000_000;
    const pools = new KeyPools(() => now);
    const p = provider(['a', 'b']);
    const a = p.keys[0]!;
    pools.report(a, { status: 429, retryAfterMs: 7_000 });
    expect([1, 2, 3].map(() => pools.pick(p, new Set())?.key)).toEqual(['b', 'b', 'b']);
    expect(pools.nextFreeInMs(p)).toBe(7_000);
    now += 7_001;
    expect(new Set([1, 2].map(() => pools.pick(p, new Set())?.key))).toEqual(new Set(['a', 'b']));
  });

  it('without Retry-After a 429 cools the key for 60 s; no key left means undefined', () => {
    let now = 0;
    const pools = new KeyPools(() => now);
    const p = provider(['a']);
    pools.report(p.keys[0]!, { status: 429 });
    expect(pools.pick(p, new Set())).toBeUndefined();
    now = 59_999;
    expect(pools.pick(p, new Set())).toBeUndefined();
    now = 60_001;
    expect(pools.pick(p, new Set())?.key).toBe('a');
  });

  it('set refused keys aside, but call one when nothing else is left so the real 401 comes back', () => {
    const pools = new KeyPools(() => 0);
    const p = provider(['a', 'b']);
    pools.report(p.keys[0]!, { status: 401 });
    expect([1, 2].map(() => pools.pick(p, new Set())?.key)).toEqual(['b', 'b']);
    pools.report(p.keys[1]!, { status: 403 });
    expect(pools.pick(p, new Set())?.key).toBeDefined();
    pools.report(p.keys[0]!, { status: 200 });
    expect(pools.pick(p, new Set(['id-b']))?.key).toBe('a');
  });

  it('give keyless providers a single stand-in key', () => {
    const pools = new KeyPools();
    const p = provider([], true);
    expect(pools.pick(p, new Set())).toBe(NO_KEY);
    expect(pools.pick(p, new Set([NO_KEY.id]))).toBeUndefined();
    expect(pools.pick(provider([]), new Set())).toBeUndefined();
  });
});
