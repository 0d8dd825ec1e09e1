// Builds the budget store for managed client keys from the same settings as the provider-key limit
// store: in Redis, with local counting or 503s as its fallback, when REDIS_URL is set; otherwise in
// one SQLite file beside the key-usage snapshot under `serve --workers` (the workers share it, so a
// budget holds across them) and in memory with a disk snapshot in a single process (BUDGET_STORE
// chooses either).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { LimitStateConfig } from '../config/types.js';
import { UsageSnapshots } from '../keys/usage-snapshot.js';
import { FailoverBudgetStore } from './budget-failover-store.js';
import { type BudgetSnapshot, MemoryBudgetStore } from './budget-memory-store.js';
import { RedisBudgetStore } from './budget-redis-store.js';
import { SqliteBudgetStore } from './budget-sqlite-store.js';
import type { BudgetStore } from './budget-store.js';

export interface BudgetState {
  store: BudgetStore;
  /** Memory mode only: the snapshot writer, closed (one last write) on stop. */
  snapshots: UsageSnapshots<BudgetSnapshot> | undefined;
  /** Redis mode: waits (briefly) for the first connection. */
  ready: Promise<void>;
}

export interface BudgetStateOptions {
  /** Open reservations older than this are forgotten, counted at their estimate. */
  reservationTtlMs?: number;
}

const CONNECT_WAIT_MS = 3000;

/** The memory store's snapshot file: client-budgets.json beside the key-usage snapshot. */
export function budgetSnapshotFile(config: LimitStateConfig): string {
  const file = join(dirname(config.snapshotFile), 'client-budgets.json');
  // Under `serve --workers` with BUDGET_STORE=memory each worker has its own counts, so its own file.
  const slot = process.env.AI_PROXY_WORKER_SLOT;
  return slot === undefined ? file : `${file}.worker-${slot}`;
}

/** The SQLite store's file: client-budgets.sqlite3 beside the key-usage snapshot, one for every worker. */
export function budgetDbFile(config: LimitStateConfig): string {
  return join(dirname(config.snapshotFile), 'client-budgets.sqlite3');
}

/**
 * The memory store's snapshots in the data folder (a single process's and every worker's), read
 * when the SQLite file is first made so that switching to it forgets no spend: each worker counted
 * its own share, so their counts add up. A damaged snapshot is skipped, with a warning.
 */
function memorySnapshots(config: LimitStateConfig, logger: Logger): BudgetSnapshot[] {
  const dir = dirname(config.snapshotFile);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /^client-budgets\.json(\.worker-.+)?$/.test(name));
  } catch {
    return [];
  }
  const snapshots: BudgetSnapshot[] = [];
  for (const name of names) {
    try {
      const store = new MemoryBudgetStore();
      const snapshot = JSON.parse(readFileSync(join(dir, name), 'utf8')) as BudgetSnapshot | null;
      if (snapshot?.version !== 1) throw new Error('not a version 1 snapshot');
      store.restore(snapshot);
      snapshots.push(store.snapshot(Date.now()));
    } catch (error) {
      logger.warn({ file: name, err: (error as Error).message }, 'client-key budget snapshot not taken over');
    }
  }
  if (snapshots.length > 0)
    logger.info({ files: names }, 'client-key budget snapshots taken over into SQLite');
  return snapshots;
}

/** Without Redis: BUDGET_STORE, else SQLite in a worker of `serve --workers` and memory otherwise. */
export function localBudgetKind(config: LimitStateConfig): 'memory' | 'sqlite' {
  return config.budgetStore ?? (process.env.AI_PROXY_WORKER_SLOT === undefined ? 'memory' : 'sqlite');
}

export function createBudgetState(
  config: LimitStateConfig,
  logger: Logger,
  options: BudgetStateOptions = {},
): BudgetState {
  const memoryOptions =
    options.reservationTtlMs === undefined ? {} : { reservationTtlMs: options.reservationTtlMs };
  if (config.redisUrl === undefined && localBudgetKind(config) === 'sqlite') {
    let lastError = '';
    const store = new SqliteBudgetStore({
      path: budgetDbFile(config),
      ...memoryOptions,
      seed: () => memorySnapshots(config, logger),
      onError: (error) => {
        if (error.message !== lastError)
          logger.error({ err: error.message }, 'client-key budget file unusable; budgeted requests refused');
        lastError = error.message;
      },
    });
    return { store, snapshots: undefined, ready: Promise.resolve() };
  }
  if (config.redisUrl === undefined) {
    const store = new MemoryBudgetStore(memoryOptions);
    const snapshots = new UsageSnapshots(store, budgetSnapshotFile(config), logger, 'client-key budgets');
    snapshots.restore();
    snapshots.start(config.snapshotIntervalMs);
    return { store, snapshots, ready: Promise.resolve() };
  }
  let lastError = '';
  const redis = new RedisBudgetStore({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    ...memoryOptions,
    onError: (error) => {
      if (error.message !== lastError)
        logger.warn({ err: error.message }, 'Redis connection error (budgets)');
      lastError = error.message;
    },
  });
  redis.client.on('ready', () => {
    lastError = '';
  });
  const store = new FailoverBudgetStore(
    redis,
    new MemoryBudgetStore(memoryOptions),
    config.redisFailMode === 'open',
    logger,
  );
  const ready = redis.connect(CONNECT_WAIT_MS).then((connected) => {
    if (connected) return;
    logger.warn(
      config.redisFailMode === 'open'
        ? 'Redis did not answer at start; client-key budgets are counted locally until it does'
        : 'Redis did not answer at start; budgeted client keys are refused until it does',
    );
  });
  return { store, snapshots: undefined, ready };
}
