// Which budget store a gateway without Redis builds: SQLite in a worker of `serve --workers` (every
// worker on one file beside the key-usage snapshot, so they share the counts), memory in a single
// process, and BUDGET_STORE choosing either; the SQLite store's counts outlive the process that
// made them without any snapshot (a crash loses nothing committed); a new SQLite file starts from
// the memory store's snapshots, so switching to it forgets no spend.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { LimitStateConfig } from '../../src/config/types.js';
import { MemoryBudgetStore } from '../../src/managed-keys/budget-memory-store.js';
import { budgetDbFile, createBudgetState } from '../../src/managed-keys/budget-store-factory.js';

const silent = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'ai-proxy-budget-factory-'));
const slotBefore = process.env.AI_PROXY_WORKER_SLOT;

afterEach(() => {
  if (slotBefore === undefined) delete process.env.AI_PROXY_WORKER_SLOT;
  else process.env.AI_PROXY_WORKER_SLOT = slotBefore;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, budgetStore?: 'memory' | 'sqlite'): LimitStateConfig {
  return {
    redisUrl: undefined,
    redisPrefix: 'ai-proxy:',
    redisFailMode: 'open',
    snapshotFile: join(dir, name, 'state', 'key-usage.json'),
    snapshotIntervalMs: 60_000,
    redisCommandTimeoutMs: 500,
    budgetStore,
  };
}

const now = Date.UTC(2026, 10, 22, 12);
const policy = { budgetTotal: 1 };

describe('the budget store factory without Redis', () => {
  it('in a single process: memory, with its snapshot', async () => {
    delete process.env.AI_PROXY_WORKER_SLOT;
    const state = createBudgetState(config('single'), silent);
    expect(state.store.kind).toBe('memory');
    expect(state.snapshots).toBeDefined();
    state.snapshots?.close();
    await state.store.close();
  });

  it('in two workers: one SQLite file beside the key-usage snapshot, counts shared between them', async () => {
    const limits = config('workers');
    process.env.AI_PROXY_WORKER_SLOT = '1';
    const one = createBudgetState(limits, silent);
    process.env.AI_PROXY_WORKER_SLOT = '2';
    const two = createBudgetState(limits, silent);
    expect([one.store.kind, two.store.kind]).toEqual(['sqlite', 'sqlite']);
    expect(one.snapshots).toBeUndefined();
    expect(budgetDbFile(limits)).toBe(join(dir, 'workers', 'state', 'client-budgets.sqlite3'));
    expect(existsSync(budgetDbFile(limits))).toBe(true);
    expect((await one.store.reserve({ keyId: 'k', policy, tokens: 0, cost: 0.6, now })).ok).toBe(true);
    // The other worker sees the $0.60 in flight: $0.50 more does not fit.
    expect(await two.store.reserve({ keyId: 'k', policy, tokens: 0, cost: 0.5, now })).toMatchObject({
      ok: false,
      budget: 'total',
      spentUsd: 0.6,
    });
    await one.store.close();
    await two.store.close();

    // A new worker (a replacement after a crash: nothing was snapshotted) starts from the file.
    process.env.AI_PROXY_WORKER_SLOT = '1';
    const again = createBudgetState(limits, silent);
    expect(await again.store.reserve({ keyId: 'k', policy, tokens: 0, cost: 0.41, now })).toMatchObject({
      ok: false,
      spentUsd: 0.6,
    });
    await again.store.close();
  });

  it('BUDGET_STORE chooses: sqlite in a single process, memory in a worker', async () => {
    delete process.env.AI_PROXY_WORKER_SLOT;
    const sqlite = createBudgetState(config('chosen-sqlite', 'sqlite'), silent);
    expect(sqlite.store.kind).toBe('sqlite');
    await sqlite.store.close();
    process.env.AI_PROXY_WORKER_SLOT = '1';
    const memory = createBudgetState(config('chosen-memory', 'memory'), silent);
    expect(memory.store.kind).toBe('memory');
    memory.snapshots?.close();
    await memory.store.close();
  });

  it('BUDGET_STORE is read from the environment and checked', () => {
    expect(loadConfig({ cwd: dir, env: { BUDGET_STORE: 'SQLite' } }).limitState.budgetStore).toBe('sqlite');
    expect(loadConfig({ cwd: dir, env: {} }).limitState.budgetStore).toBeUndefined();
    expect(() => loadConfig({ cwd: dir, env: { BUDGET_STORE: 'redis' } })).toThrow(
      /BUDGET_STORE: expected memory or sqlite, got "redis"/,
    );
  });

  it('a new SQLite file takes over the workers’ memory snapshots, adding them up, once', async () => {
    const limits = config('upgrade');
    const state = join(dir, 'upgrade', 'state');
    mkdirSync(state, { recursive: true });
    const at = Date.now();
    for (const [slot, cost] of [
      ['1', 0.25],
      ['2', 0.5],
    ] as const) {
      const worker = new MemoryBudgetStore();
      const r = worker.reserve({ keyId: 'k', policy, tokens: 100, cost, now: at });
      if (r.ok) worker.settle(r.reservation, { tokens: 80, cost });
      writeFileSync(join(state, `client-budgets.json.worker-${slot}`), JSON.stringify(worker.snapshot(at)));
    }
    writeFileSync(join(state, 'client-budgets.json.worker-3'), '{ damaged');
    process.env.AI_PROXY_WORKER_SLOT = '1';
    const first = createBudgetState(limits, silent);
    expect(first.store.kind).toBe('sqlite');
    expect(await first.store.view('k', policy, at + 1)).toMatchObject({
      requestsMinute: 2,
      tokensMinute: 160,
      requestsDay: 2,
      tokensDay: 160,
      spentDay: 0.75,
      spentMonth: 0.75,
      spentTotal: 0.75,
      remaining: { total: 0.25 },
    });
    await first.store.close();
    // A later start (another worker, a restart) finds the file made and takes nothing again.
    process.env.AI_PROXY_WORKER_SLOT = '2';
    const second = createBudgetState(limits, silent);
    expect((await second.store.view('k', policy, at + 2)).spentTotal).toBe(0.75);
    await second.store.close();
  });
});
