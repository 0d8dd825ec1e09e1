// Builds the managed key store a configuration asks for: Redis when REDIS_URL is set (every
// instance sees every key and every revocation), else the SQLite file at KEYS_DB_PATH.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { KeyStore } from './key-store.js';
import { RedisKeyStore } from './key-store-redis.js';
import { SqliteKeyStore } from './key-store-sqlite.js';

export interface KeyStoreFactoryOptions {
  /** How often other processes' changes are looked for (tests shorten it). */
  pollMs?: number;
}

export function createKeyStore(
  config: Config,
  logger: Logger,
  options: KeyStoreFactoryOptions = {},
): KeyStore {
  const onDamaged = (id: string) =>
    logger.error({ key: id }, 'managed key store: a stored key does not read back whole; it is refused');
  const { redisUrl, redisPrefix } = config.limitState;
  if (redisUrl !== undefined) {
    return new RedisKeyStore({
      url: redisUrl,
      prefix: redisPrefix,
      pollMs: options.pollMs,
      onError: (error) => logger.warn({ err: error.message }, 'managed key store: Redis error'),
      onDamaged,
    });
  }
  return new SqliteKeyStore({
    path: config.managedKeys.dbPath,
    pollMs: options.pollMs,
    onError: (error) => logger.warn({ err: error.message }, 'managed key store: SQLite error'),
    onDamaged,
  });
}
