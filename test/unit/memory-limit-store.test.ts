// The selection rule of SPEC §6 on the memory store (the Redis script runs the same rule):
// headroom on every limit, least day usage within the gap, rotation, cooldowns, refused keys as a
// last resort, sliding minutes, UTC days, token corrections, and a snapshot round trip.
import { describe, expect, it } from 'vitest';
import type { KeySpec, SelectInput } from '../../src/keys/limit-store.js';
import { MemoryLimitStore } from '../../src/keys/memory-limit-store.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function input(keys: KeySpec[], now: number, extra: Partial<SelectInput> = {}): SelectInput {
  return { provider: 'p', keys, exclude: new Set(), estimate: 0, gapPercent: 5, now, ...extra };
}

function pickIds(store: MemoryLimitStore, keys: KeySpec[], count: number, now = T0): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const result = store.select(input(keys, now));
    ids.push(result.ok ? keys[result.index]!.id : '-');
  }
  return ids;
}

describe('MemoryLimitStore.select', () => {
  it('rotates among keys whose day usage is within the gap', () => {
    const keys = [
      { id: 'a', limits: { max_request_day: 1000 } },
      { id: 'b', limits: { max_request_day: 1000 } },
      { id: 'c', limits: { max_request_day: 1000 } },
    ];
    expect(pickIds(new MemoryLimitStore(), keys, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('leaves out a key used more than the gap above the least used', () => {
    const store = new MemoryLimitStore();
    const a = { id: 'a', limits: { max_request_day: 100 } };
    const b = { id: 'b', limits: { max_request_day: 100 } };
    // a alone takes 10 requests (10% of its day): b, at 0%, is more than 5 points below.
    for (let i = 0; i < 10; i++) store.select(input([a], T0));
    expect(pickIds(store, [a, b], 6)).toEqual(['b', 'b', 'b', 'b', 'b', 'a']);
  });

  it('skips a key without headroom and reports when the first one frees', () => {
    const store = new MemoryLimitStore();
    const keys = [{ id: 'a', limits: { max_request_min: 2 } }];
    expect(pickIds(store, keys, 2)).toEqual(['a', 'a']);
    const later = T0 + 20_500;
    const refused = store.select(input(keys, later));
    expect(refused).toEqual({ ok: false, freeInMs: 39_500 });
    // The window slides: a minute after the first two, there is room again.
    expect(store.select(input(keys, T0 + 60_000)).ok).toBe(true);
  });

  it('counts UTC days: the day limit frees at midnight', () => {
    const store = new MemoryLimitStore();
    const keys = [{ id: 'a', limits: { max_request_day: 1 } }];
    expect(store.select(input(keys, T0)).ok).toBe(true);
    const blocked = store.select(input(keys, T0 + 1000));
    expect(blocked).toEqual({ ok: false, freeInMs: 12 * 3600_000 - 1000 });
    expect(store.select(input(keys, Date.UTC(2026, 10, 23, 0, 0, 1))).ok).toBe(true);
  });

  it('reserves the token estimate and corrects it with the real usage', () => {
    const store = new MemoryLimitStore();
    const keys = [{ id: 'a', limits: { max_token_min: 1000 } }];
    const first = store.select(input(keys, T0, { estimate: 700 }));
    if (!first.ok) throw new Error('expected a key');
    expect(store.select(input(keys, T0, { estimate: 700 })).ok).toBe(false);
    store.settle(first.lease, {
      promptTokens: 50,
      completionTokens: 50,
      totalTokens: 100,
      cost: 0.01,
      clientHash: 'abc',
    });
    expect(store.select(input(keys, T0, { estimate: 700 })).ok).toBe(true);
    const view = store.viewNow(['a'], T0);
    expect(view.keys.get('a')).toMatchObject({
      tokensMinute: 800,
      tokensDay: 800,
      promptTokensDay: 50,
      costDay: 0.01,
    });
    expect(view.clients.get('abc')).toEqual({ requests: 1, tokens: 100, cost: 0.01 });
  });

  it('cooled keys are skipped; a refused key is used only when nothing else is left', () => {
    const store = new MemoryLimitStore();
    const keys = [
      { id: 'a', limits: {} },
      { id: 'b', limits: {} },
    ];
    store.cool('a', T0 + 30_000, 'rate-limited');
    store.cool('b', T0 + 60_000, 'refused');
    const result = store.select(input(keys, T0));
    expect(result.ok && keys[result.index]!.id).toBe('b');
    expect(result.ok && result.lease.refused).toBe(true);
    const onlyA = store.select(input([keys[0]!], T0));
    expect(onlyA).toEqual({ ok: false, freeInMs: 30_000 });
  });

  it('a snapshot restores counts, windows and cooldowns', () => {
    const store = new MemoryLimitStore();
    const keys = [{ id: 'a', limits: { max_request_min: 3 } }];
    pickIds(store, keys, 2);
    store.cool('a', T0 + 5_000, 'rate-limited');
    const copy = new MemoryLimitStore();
    copy.restore(JSON.parse(JSON.stringify(store.snapshot(T0))));
    const view = copy.viewNow(['a'], T0 + 1000);
    expect(view.keys.get('a')).toMatchObject({ requestsMinute: 2, requestsDay: 2 });
    expect(view.keys.get('a')?.cooldown).toEqual({ reason: 'rate-limited', remainingMs: 4000 });
    expect(copy.select(input(keys, T0 + 6_000)).ok).toBe(true);
    expect(copy.select(input(keys, T0 + 6_000)).ok).toBe(false);
  });
});
