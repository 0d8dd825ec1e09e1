// Memory-mode budgets survive a graceful restart: the counts go to a snapshot file (through the same
// UsageSnapshots writer as the provider-key counts) and come back in a new store, which then decides
// exactly as the old one would have; reservations still open stay counted at their estimate; a
// damaged file is ignored, leaving the store empty rather than half restored.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { LimitStateConfig } from '../../src/config/types.js';
import { UsageSnapshots } from '../../src/keys/usage-snapshot.js';
import { type BudgetSnapshot, MemoryBudgetStore } from '../../src/managed-keys/budget-memory-store.js';
import type { Reservation } from '../../src/managed-keys/budget-store.js';
import { budgetSnapshotFile, createBudgetState } from '../../src/managed-keys/budget-store-factory.js';
import type { KeyPolicy } from '../../src/managed-keys/types.js';

const silent = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'budget-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy: KeyPolicy = { rpm: 5, tpd: 10_000, budgetDay: 1, budgetMonth: 3, budgetTotal: 10 };
// The writer keeps the minute's buckets against the wall clock, so the test runs near it, but never
// within seconds after midnight UTC (its requests must share one day).
const now = Math.max(Date.now(), Math.floor(Date.now() / 86_400_000) * 86_400_000 + 10_000);

function fill(store: MemoryBudgetStore): Reservation {
  for (let i = 0; i < 3; i++) {
    const r = store.reserve({ keyId: 'key_a', policy, tokens: 500, cost: 0.2, now: now - 5000 + i });
    if (!r.ok) throw new Error('refused');
    store.settle(r.reservation, { tokens: 400, cost: 0.25 });
  }
  const open = store.reserve({ keyId: 'key_a', policy, tokens: 300, cost: 0.1, now: now - 1000 });
  if (!open.ok) throw new Error('refused');
  store.reserve({ keyId: 'key_b', policy: {}, tokens: 7, cost: 0.5, now: now - 1000 });
  return open.reservation;
}

describe('budget snapshots', () => {
  it('round-trips the counts through a file: the restored store decides as the old one', () => {
    const file = join(dir, 'round-trip', 'client-budgets.json');
    const before = new MemoryBudgetStore();
    const open = fill(before);
    const writer = new UsageSnapshots(before, file, silent, 'client-key budgets');
    expect(before.dirty).toBe(true);
    writer.close();
    expect(before.dirty).toBe(false);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as BudgetSnapshot;
    expect(saved.version).toBe(1);
    expect(Object.keys(saved.keys).sort()).toEqual(['key_a', 'key_b']);

    const after = new MemoryBudgetStore();
    new UsageSnapshots(after, file, silent).restore();
    const old = before.view('key_a', policy, now);
    const restored = after.view('key_a', policy, now);
    // The open reservation cannot be settled by the new process: it stays counted at its estimate.
    expect(old.inFlight).toEqual({ requests: 1, tokens: 300, cost: 0.1 });
    expect(restored.inFlight).toEqual({ requests: 0, tokens: 0, cost: 0 });
    expect(restored).toEqual({
      ...old,
      spentDay: expect.closeTo(0.85, 9),
      spentMonth: expect.closeTo(0.85, 9),
      spentTotal: expect.closeTo(0.85, 9),
      inFlight: restored.inFlight,
    });
    expect(restored).toMatchObject({
      requestsMinute: 4,
      tokensMinute: 1500,
      requestsDay: 4,
      tokensDay: 1500,
    });
    expect(after.view('key_b', {}, now).spentTotal).toBe(0.5);
    // The old process's late settle is not the new one's to count.
    after.settle(open, { tokens: 0, cost: 0 });
    expect(after.view('key_a', policy, now).remaining.day).toBeCloseTo(0.15, 9);

    // The same next requests get the same answers: the minute's 4 requests and the day's $0.85.
    for (const store of [before, after]) {
      expect(store.reserve({ keyId: 'key_a', policy, tokens: 0, cost: 0.16, now })).toMatchObject({
        ok: false,
        budget: 'day',
      });
      expect(store.reserve({ keyId: 'key_a', policy, tokens: 0, cost: 0.15, now }).ok).toBe(true);
      expect(store.reserve({ keyId: 'key_a', policy, tokens: 0, cost: 0, now })).toMatchObject({
        ok: false,
        kind: 'rate',
        limit: 'rpm',
      });
    }
  });

  it('ignores a damaged or foreign snapshot, restoring nothing of it', () => {
    const file = join(dir, 'damaged.json');
    const good = new MemoryBudgetStore();
    fill(good);
    const snapshot = good.snapshot(now);
    // The first key is whole, the second damaged: neither may be taken.
    snapshot.keys.key_b = { ...snapshot.keys.key_b!, costTotal: Number.NaN };
    writeFileSync(file, JSON.stringify(snapshot));
    const store = new MemoryBudgetStore();
    new UsageSnapshots(store, file, silent).restore();
    expect(store.view('key_a', policy, now)).toMatchObject({ requestsDay: 0, spentTotal: 0 });

    for (const text of ['{', 'null', '{"version":2,"keys":{}}', '{"version":1,"keys":{"k":{"buckets":7}}}']) {
      writeFileSync(file, text);
      const empty = new MemoryBudgetStore();
      new UsageSnapshots(empty, file, silent).restore();
      expect(empty.view('k', {}, now).requestsDay).toBe(0);
    }
  });

  it('the factory in memory mode restores at start and writes at stop, beside the key-usage snapshot', async () => {
    const config: LimitStateConfig = {
      redisUrl: undefined,
      redisPrefix: 'ai-proxy:',
      redisFailMode: 'open',
      snapshotFile: join(dir, 'state', 'key-usage.json'),
      snapshotIntervalMs: 60_000,
      redisCommandTimeoutMs: 500,
    };
    expect(budgetSnapshotFile(config)).toBe(join(dir, 'state', 'client-budgets.json'));
    const first = createBudgetState(config, silent);
    expect(first.store.kind).toBe('memory');
    await first.ready;
    await first.store.reserve({ keyId: 'key_f', policy: { budgetTotal: 1 }, tokens: 0, cost: 0.75, now });
    first.snapshots?.close();
    await first.store.close();

    const second = createBudgetState(config, silent);
    expect(
      await second.store.reserve({ keyId: 'key_f', policy: { budgetTotal: 1 }, tokens: 0, cost: 0.3, now }),
    ).toEqual({
      ok: false,
      kind: 'budget',
      budget: 'total',
      limitUsd: 1,
      spentUsd: 0.75,
      resetAt: null,
    });
    second.snapshots?.close();
  });
});
