// Managed keys in Redis, shared by every instance that points at it: one hash
// (`<REDIS_KEY_PREFIX>managed-keys`, id → the record as JSON, the key's sha256 only) and a version
// counter beside it that every write bumps in the same script. Each instance polls the counter
// (one GET every 250 ms) and reloads the hash when it moved, so a revocation reaches every instance
// within a poll. Writes are compare-and-set on the record's text: two admins changing one key at
// once never lose a change. While Redis is away the last index read stays in use.
import { Redis } from 'ioredis';
import type { KeyCreateInput, KeyPatch } from './key-input.js';
import {
  type CreatedKey,
  KeyIndex,
  type KeyStore,
  newRecord,
  patchedRecord,
  revokedRecord,
  rotatedRecord,
  storedRecord,
} from './key-store.js';
import type { ManagedKey } from './types.js';

export interface RedisKeyStoreOptions {
  url: string;
  /** REDIS_KEY_PREFIX, as the limit store uses it. */
  prefix: string;
  pollMs?: number;
  /** A command not answered by then fails; 5 s unless told. */
  commandTimeoutMs?: number;
  onError?: (error: Error) => void;
  onDamaged?: (id: string) => void;
  now?: () => number;
}

/** Inserts a new id only; bumps the version. KEYS: hash, version. ARGV: id, record. */
const CREATE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  return redis.call('INCR', KEYS[2])
end
return -1`;

/** Replaces a record only if it is still the text read. KEYS: hash, version. ARGV: id, old, new. */
const SWAP = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return redis.call('INCR', KEYS[2])
end
return -1`;

const MAX_SWAPS = 20;

function parseRecord(text: string): ManagedKey | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return storedRecord(value as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

/** What is stored: the record without its short hash (derived from the hash). */
function recordText(record: ManagedKey): string {
  const { shortHash: _derived, ...stored } = record;
  return JSON.stringify(stored);
}

export class RedisKeyStore implements KeyStore {
  readonly kind = 'redis';
  readonly client: Redis;
  private readonly index = new KeyIndex();
  private readonly hashKey: string;
  private readonly versionKey: string;
  private readonly now: () => number;
  private readonly onDamaged: (id: string) => void;
  private readonly timer: NodeJS.Timeout;
  private readonly firstLoad: Promise<void>;
  /** The counter's value the index was read at; null before the first read. */
  private seen: string | null = null;
  private polling = false;
  private lastError = '';

  constructor(private readonly options: RedisKeyStoreOptions) {
    this.hashKey = `${options.prefix}managed-keys`;
    this.versionKey = `${options.prefix}managed-keys:version`;
    this.now = options.now ?? Date.now;
    this.onDamaged = options.onDamaged ?? (() => undefined);
    this.client = new Redis(options.url, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    this.client.on('error', (error: Error) => this.report(error));
    this.firstLoad = this.poll();
    this.timer = setInterval(() => void this.poll(), options.pollMs ?? 250);
    this.timer.unref();
  }

  get version(): number {
    return this.index.version;
  }

  get size(): number {
    return this.index.size;
  }

  ready(): Promise<void> {
    return this.firstLoad;
  }

  onChange(listener: () => void): () => void {
    return this.index.onChange(listener);
  }

  findByHash(sha256hex: string): ManagedKey | undefined {
    return this.index.findByHash(sha256hex);
  }

  async list(): Promise<ManagedKey[]> {
    await this.refresh();
    return this.index.list();
  }

  async get(id: string): Promise<ManagedKey | undefined> {
    await this.refresh();
    return this.index.get(id);
  }

  async create(input: KeyCreateInput): Promise<CreatedKey> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = newRecord(input, this.now());
      const version = await this.client.eval(
        CREATE,
        2,
        this.hashKey,
        this.versionKey,
        created.record.id,
        recordText(created.record),
      );
      if (Number(version) < 0) continue; // an id drawn twice: draw again
      this.wrote(created.record, Number(version));
      return created;
    }
    throw new Error('could not draw an unused key id');
  }

  async update(id: string, patch: KeyPatch): Promise<ManagedKey | undefined> {
    return this.change(id, (record) => patchedRecord(record, patch, this.now()));
  }

  async revoke(id: string): Promise<ManagedKey | undefined> {
    return this.change(id, (record) => revokedRecord(record, this.now()));
  }

  async rotate(id: string): Promise<CreatedKey | undefined> {
    let created: CreatedKey | undefined;
    const record = await this.change(id, (current) => {
      created = rotatedRecord(current, this.now());
      return created.record;
    });
    return record === undefined ? undefined : created;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private async change(
    id: string,
    next: (record: ManagedKey) => ManagedKey,
  ): Promise<ManagedKey | undefined> {
    for (let attempt = 0; attempt < MAX_SWAPS; attempt++) {
      const text = await this.client.hget(this.hashKey, id);
      if (text === null) return undefined;
      const current = parseRecord(text);
      if (current === undefined) {
        this.onDamaged(id);
        return undefined;
      }
      const record = next(current);
      if (record === current) return record;
      const version = await this.client.eval(
        SWAP,
        2,
        this.hashKey,
        this.versionKey,
        id,
        text,
        recordText(record),
      );
      if (Number(version) >= 0) {
        this.wrote(record, Number(version));
        return record;
      }
      // Someone else changed it between the read and the write: read again.
    }
    throw new Error(`key ${id} kept changing under this write; try again`);
  }

  /** Our own write, in the index at once; the counter moved past what we saw only by us, or a reload follows. */
  private wrote(record: ManagedKey, version: number): void {
    this.index.put(record);
    if (this.seen !== null && Number(this.seen) + 1 === version) this.seen = String(version);
  }

  /** Reloads when the counter moved since the last read; throws when Redis does not answer. */
  private async refresh(): Promise<void> {
    const version = (await this.client.get(this.versionKey)) ?? '0';
    if (version === this.seen) return;
    // The counter and the records read together, so the index matches the counter it is kept at.
    const results = await this.client.multi().get(this.versionKey).hgetall(this.hashKey).exec();
    const [versionRead, recordsRead] = results ?? [];
    if (versionRead?.[0] || recordsRead?.[0] || versionRead === undefined || recordsRead === undefined) {
      throw versionRead?.[0] ?? recordsRead?.[0] ?? new Error('Redis transaction aborted');
    }
    const texts = recordsRead[1] as Record<string, string>;
    const records: ManagedKey[] = [];
    for (const [id, text] of Object.entries(texts)) {
      const record = parseRecord(text);
      if (record === undefined) this.onDamaged(id);
      else records.push(record);
    }
    this.seen = (versionRead[1] as string | null) ?? '0';
    this.index.replaceAll(records);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await this.refresh();
      this.lastError = '';
    } catch (error) {
      this.report(error as Error);
    } finally {
      this.polling = false;
    }
  }

  private report(error: Error): void {
    // ioredis repeats the same error on every reconnect attempt; say it once per change.
    if (error.message !== this.lastError) this.options.onError?.(error);
    this.lastError = error.message;
  }
}
