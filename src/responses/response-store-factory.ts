// Builds the stored-responses store a configuration asks for: Redis when REDIS_URL is set (every
// instance sees every response), else the SQLite file at RESPONSES_DB_PATH. The SQLite file is
// opened on first use, so a gateway that never serves /v1/responses creates none; Redis connects at
// once (the limit store connects anyway), so the first answer's SET is not left waiting for a
// connection while the client's next turn, on another instance, already asks for it.
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { RedisResponseStore } from './redis-response-store.js';
import type { ResponseStore, StoredResponse } from './response-store.js';
import { SqliteResponseStore } from './sqlite-response-store.js';

export interface ResponseStoreOptions {
  /** Overrides the 16 MiB record bound (tests). */
  maxRecordBytes?: number;
}

function openStore(config: Config, logger: Logger, options: ResponseStoreOptions): ResponseStore {
  const { redisUrl, redisPrefix } = config.limitState;
  if (redisUrl !== undefined) {
    let lastError = '';
    const store = new RedisResponseStore({
      url: redisUrl,
      prefix: redisPrefix,
      maxRecordBytes: options.maxRecordBytes,
      onError: (error) => {
        // ioredis repeats the same error on every reconnect attempt; say it once per change.
        if (error.message !== lastError) logger.warn({ err: error.message }, 'response store: Redis error');
        lastError = error.message;
      },
    });
    store.client.on('ready', () => {
      lastError = '';
    });
    logger.info({ prefix: redisPrefix }, 'stored responses kept in Redis');
    return store;
  }
  const path = config.responseStore.dbPath;
  const store = new SqliteResponseStore({
    path,
    maxRecordBytes: options.maxRecordBytes,
    onError: (error) => logger.warn({ err: error.message }, 'response store: purge failed'),
  });
  logger.info({ path }, 'stored responses kept in SQLite');
  return store;
}

/** SQLite opens on the first call, Redis at once; REDIS_URL and RESPONSES_DB_PATH come from `config`. */
export class LazyResponseStore implements ResponseStore {
  private store: ResponseStore | undefined;
  private closed = false;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly options: ResponseStoreOptions = {},
  ) {
    if (config.limitState.redisUrl !== undefined) this.store = openStore(config, logger, options);
  }

  get kind(): ResponseStore['kind'] {
    return this.config.limitState.redisUrl === undefined ? 'sqlite' : 'redis';
  }

  private open(): ResponseStore {
    if (this.closed) throw new Error('the response store is closed');
    this.store ??= openStore(this.config, this.logger, this.options);
    return this.store;
  }

  async put(record: StoredResponse): Promise<void> {
    await this.open().put(record);
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    return this.open().get(id);
  }

  async delete(id: string): Promise<boolean> {
    return this.open().delete(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.store?.close();
    this.store = undefined;
  }
}

export function createResponseStore(
  config: Config,
  logger: Logger,
  options: ResponseStoreOptions = {},
): ResponseStore {
  return new LazyResponseStore(config, logger, options);
}
