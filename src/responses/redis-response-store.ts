// Stored responses in Redis, shared by every gateway instance that points at it: one key per
// response (`<REDIS_KEY_PREFIX>response:<id>`), the whole record as JSON, `SET … PX ttl` so Redis
// forgets it on time by itself. Its own connection, apart from the limit store's: a large record
// must not wait behind (or time out) the key-selection scripts' short deadline.
import { Redis } from 'ioredis';
import { asStoredResponse, checkSize, parseJson, preparedRecord } from './record-json.js';
import { DEFAULT_MAX_RECORD_BYTES, type ResponseStore, type StoredResponse } from './response-store.js';

export interface RedisResponseStoreOptions {
  url: string;
  /** REDIS_KEY_PREFIX, as the limit store uses it. */
  prefix: string;
  maxRecordBytes?: number;
  /** A command not answered by then fails; 5 s unless told. */
  commandTimeoutMs?: number;
  onError: (error: Error) => void;
  now?: () => number;
}

export class RedisResponseStore implements ResponseStore {
  readonly kind = 'redis';
  readonly client: Redis;
  private readonly prefix: string;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(options: RedisResponseStoreOptions) {
    this.prefix = `${options.prefix}response:`;
    this.maxBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.now = options.now ?? Date.now;
    this.client = new Redis(options.url, {
      // Commands sent before the first connection wait for it, each within the command deadline.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    this.client.on('error', options.onError);
  }

  private key(id: string): string {
    return this.prefix + id;
  }

  async put(record: StoredResponse): Promise<void> {
    const text = JSON.stringify(preparedRecord(record));
    checkSize(record.id, Buffer.byteLength(text), this.maxBytes);
    const ttl = record.expiresAt - this.now();
    // Already expired: nothing to keep (and PX must be positive).
    if (ttl <= 0) {
      await this.client.del(this.key(record.id));
      return;
    }
    await this.client.set(this.key(record.id), text, 'PX', ttl);
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    const text = await this.client.get(this.key(id));
    if (text === null) return undefined;
    const record = asStoredResponse(parseJson(text));
    // PX has Redis forget it; the record's own time is checked too (another instance's clock).
    return record !== undefined && record.expiresAt > this.now() ? record : undefined;
  }

  /** Read and removed in one transaction, so "was there one" follows the same clock as get. */
  async delete(id: string): Promise<boolean> {
    const results = await this.client.multi().get(this.key(id)).del(this.key(id)).exec();
    const [read] = results ?? [];
    if (read === undefined || read[0] !== null) throw read?.[0] ?? new Error('Redis transaction aborted');
    const text = read[1];
    if (typeof text !== 'string') return false;
    const record = asStoredResponse(parseJson(text));
    // A value that is not a record (or is past its time) was removed, but there was no response.
    return record !== undefined && record.expiresAt > this.now();
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
