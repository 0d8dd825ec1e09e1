// Builds the limit store a configuration asks for: memory with disk snapshots by default, Redis
// (with local counting as its fallback) when REDIS_URL is set.
import type { Logger } from 'pino';
import type { LimitStateConfig } from '../config/types.js';
import { FailoverLimitStore } from './failover-limit-store.js';
import type { LimitStore } from './limit-store.js';
import { MemoryLimitStore } from './memory-limit-store.js';
import { RedisLimitStore } from './redis-limit-store.js';
import { UsageSnapshots } from './usage-snapshot.js';

export interface LimitState {
  store: LimitStore;
  /** Memory mode only: the snapshot writer, closed (one last write) on stop. */
  snapshots: UsageSnapshots | undefined;
  /** Redis mode: waits (briefly) for the first connection. */
  ready: Promise<void>;
}

const CONNECT_WAIT_MS = 3000;

export function createLimitState(config: LimitStateConfig, logger: Logger): LimitState {
  if (config.redisUrl === undefined) {
    const store = new MemoryLimitStore();
    // Under `serve --workers`, each worker slot has its own counts and so its own snapshot.
    const slot = process.env.AI_PROXY_WORKER_SLOT;
    const file = slot === undefined ? config.snapshotFile : `${config.snapshotFile}.worker-${slot}`;
    const snapshots = new UsageSnapshots(store, file, logger);
    snapshots.restore();
    snapshots.start(config.snapshotIntervalMs);
    return { store, snapshots, ready: Promise.resolve() };
  }
  let lastError = '';
  const redis = new RedisLimitStore({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    onError: (error) => {
      // ioredis repeats the same error on every reconnect attempt; say it once per change.
      if (error.message !== lastError) logger.warn({ err: error.message }, 'Redis connection error');
      lastError = error.message;
    },
  });
  redis.client.on('ready', () => {
    lastError = '';
  });
  const store = new FailoverLimitStore(
    redis,
    new MemoryLimitStore(),
    config.redisFailMode === 'open',
    logger,
  );
  const ready = redis.connect(CONNECT_WAIT_MS).then((connected) => {
    if (connected) logger.info({ prefix: config.redisPrefix }, 'key limits shared through Redis');
    else logger.warn('Redis did not answer at start; key limits are counted locally until it does');
  });
  return { store, snapshots: undefined, ready };
}
