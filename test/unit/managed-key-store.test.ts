// The managed key stores, SQLite and Redis, through one table of cases: create (the key shown once,
// its hash found from memory), update, revoke, rotate, bad input refused with its field; a second
// store on the same file or Redis sees every change within a second; then what only one does: the
// SQLite file holds the hash and never the key, is created by the first write only, refuses a
// damaged row; Redis shares one index between instances.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isKeyId, isManagedKeyFormat, keyHash } from '../../src/managed-keys/key-format.js';
import { KeyInputError, keyState, parseExpiry } from '../../src/managed-keys/key-input.js';
import { KeyRevokedError, type KeyStore } from '../../src/managed-keys/key-store.js';
import { RedisKeyStore } from '../../src/managed-keys/key-store-redis.js';
import { SqliteKeyStore } from '../../src/managed-keys/key-store-sqlite.js';
import { makeTempDir } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();
const DAY = 86_400_000;
const dirs: string[] = [];
const prefixes: string[] = [];
const open: KeyStore[] = [];

function track<T extends KeyStore>(store: T): T {
  open.push(store);
  return store;
}

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (!haveRedis) return;
  const raw = new Redis(REDIS_URL);
  try {
    for (const prefix of prefixes) {
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(...keys);
    }
  } finally {
    raw.disconnect();
  }
});

/** Makes stores that share one place (the same file, or the same Redis prefix). */
type Place = () => () => KeyStore;

const sqlitePlace: Place = () => {
  const dir = makeTempDir('ai-proxy-keys-');
  dirs.push(dir);
  const path = join(dir, 'data', 'keys.sqlite3');
  return () => track(new SqliteKeyStore({ path, pollMs: 50 }));
};

const redisPlace: Place = () => {
  const prefix = uniquePrefix('managed-keys');
  prefixes.push(prefix);
  return () => track(new RedisKeyStore({ url: REDIS_URL, prefix, pollMs: 50 }));
};

async function within<T>(ms: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each([
  ['sqlite', sqlitePlace, true],
  ['redis', redisPlace, haveRedis],
] as const)('%s key store', (_kind, place, enabled) => {
  it.runIf(enabled)('creates a key shown once and finds its record by the sha256, from memory', async () => {
    const store = place()();
    await store.ready();
    const before = store.version;
    const { key, record } = await store.create({
      name: 'ci bot',
      owner: 'team-a',
      policy: { models: ['gpt-4o*', 'openai:*'], rpm: 60, budgetDay: 2.5 },
    });
    expect(isManagedKeyFormat(key)).toBe(true);
    expect(isKeyId(record.id)).toBe(true);
    expect(record.hash).toBe(keyHash(key));
    expect(record.shortHash).toBe(keyHash(key).slice(0, 16));
    expect(record).toMatchObject({
      name: 'ci bot',
      owner: 'team-a',
      status: 'active',
      expiresAt: null,
      policy: { models: ['gpt-4o*', 'openai:*'], rpm: 60, budgetDay: 2.5 },
    });
    expect(JSON.stringify(record)).not.toContain(key);
    expect(store.findByHash(keyHash(key))).toEqual(record);
    expect(store.findByHash(keyHash(`${key}x`))).toBeUndefined();
    expect(await store.get(record.id)).toEqual(record);
    expect((await store.list()).map((r) => r.id)).toEqual([record.id]);
    expect(store.size).toBe(1);
    expect(store.version).toBeGreaterThan(before);
  });

  it.runIf(enabled)('updates fields and policy: a value sets, null removes, absent keeps', async () => {
    const store = place()();
    const { record } = await store.create({ name: 'a', policy: { rpm: 10, tpm: 1000, budgetMonth: 50 } });
    const updated = await store.update(record.id, {
      name: 'renamed',
      owner: 'ops',
      expiresAt: Date.now() + DAY,
      policy: { rpm: 20, tpm: null, models: ['claude-*'] },
    });
    expect(updated).toMatchObject({
      id: record.id,
      hash: record.hash,
      name: 'renamed',
      owner: 'ops',
      policy: { rpm: 20, budgetMonth: 50, models: ['claude-*'] },
    });
    expect(updated?.policy.tpm).toBeUndefined();
    expect(updated?.updatedAt).toBeGreaterThanOrEqual(record.updatedAt);
    expect(await store.get(record.id)).toEqual(updated);
    expect(store.findByHash(record.hash)).toEqual(updated);
    expect(await store.update('key_000000000000', { name: 'x' })).toBeUndefined();
  });

  it.runIf(enabled)('refuses bad input naming the field, and leaves the record as it was', async () => {
    const store = place()();
    const { record } = await store.create({ name: 'a', policy: { rpm: 10 } });
    const cases: [() => Promise<unknown>, string][] = [
      [() => store.create({ name: '  ' }), 'name'],
      [() => store.create({ name: 'x', policy: { rpm: 1.5 } }), 'rpm'],
      [() => store.create({ name: 'x', policy: { tpd: 0 } }), 'tpd'],
      [() => store.create({ name: 'x', policy: { budgetTotal: -1 } }), 'budget_total'],
      [() => store.create({ name: 'x', policy: { models: [] } }), 'models'],
      [() => store.create({ name: 'x', expiresAt: Date.now() - 1000 }), 'expires_at'],
      [() => store.update(record.id, { policy: { budgetDay: Number.NaN } }), 'budget_day'],
      [() => store.update(record.id, { policy: { models: ['gpt 4'] } }), 'models'],
    ];
    for (const [call, field] of cases) {
      const error = await call().catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(KeyInputError);
      expect((error as KeyInputError).field).toBe(field);
    }
    expect(await store.get(record.id)).toEqual(record);
    expect(await store.list()).toHaveLength(1);
  });

  it.runIf(enabled)('revokes (idempotent) and refuses to rotate a revoked key', async () => {
    const store = place()();
    const { record } = await store.create({ name: 'a' });
    const revoked = await store.revoke(record.id);
    expect(revoked?.status).toBe('revoked');
    expect(keyState(revoked ?? record, Date.now())).toBe('revoked');
    expect(store.findByHash(record.hash)?.status).toBe('revoked');
    expect(await store.revoke(record.id)).toEqual(revoked);
    await expect(store.rotate(record.id)).rejects.toBeInstanceOf(KeyRevokedError);
    expect(await store.revoke('key_000000000000')).toBeUndefined();
  });

  it.runIf(enabled)('rotates: a new key for the same id and policy; the old one is gone', async () => {
    const store = place()();
    const first = await store.create({ name: 'a', owner: 'o', policy: { rpd: 100 } });
    const rotated = await store.rotate(first.record.id);
    expect(rotated).toBeDefined();
    if (rotated === undefined) return;
    expect(rotated.key).not.toBe(first.key);
    expect(isManagedKeyFormat(rotated.key)).toBe(true);
    expect(rotated.record).toMatchObject({
      id: first.record.id,
      name: 'a',
      owner: 'o',
      policy: { rpd: 100 },
      createdAt: first.record.createdAt,
      hash: keyHash(rotated.key),
    });
    expect(store.findByHash(keyHash(first.key))).toBeUndefined();
    expect(store.findByHash(keyHash(rotated.key))?.id).toBe(first.record.id);
    expect(await store.rotate('key_000000000000')).toBeUndefined();
  });

  it.runIf(enabled)(
    'a second store on the same data sees creates, revocations and rotations within a second',
    async () => {
      const make = place();
      const writer = make();
      const reader = make();
      await Promise.all([writer.ready(), reader.ready()]);
      let changes = 0;
      reader.onChange(() => changes++);
      const { key, record } = await writer.create({ name: 'shared', policy: { rpm: 5 } });
      const started = Date.now();
      await within(1000, () => reader.findByHash(keyHash(key)));
      expect(Date.now() - started).toBeLessThan(1000);
      expect(changes).toBeGreaterThan(0);

      await writer.revoke(record.id);
      await within(1000, () => (reader.findByHash(keyHash(key))?.status === 'revoked' ? true : undefined));

      const other = await writer.create({ name: 'second' });
      const rotated = await writer.rotate(other.record.id);
      await within(1000, () => (rotated && reader.findByHash(keyHash(rotated.key))) || undefined);
      expect(reader.findByHash(keyHash(other.key))).toBeUndefined();
      // Reads through the store itself are fresh at once, without waiting for a poll.
      await writer.update(other.record.id, { name: 'renamed' });
      expect((await reader.get(other.record.id))?.name).toBe('renamed');
      // Both writers' changes survive (compare-and-set / one write transaction each).
      await Promise.all([
        writer.update(other.record.id, { policy: { rpm: 1 } }),
        reader.update(other.record.id, { policy: { tpm: 2 } }),
      ]);
      const merged = await writer.get(other.record.id);
      expect(merged?.policy).toMatchObject({ rpm: 1, tpm: 2 });
    },
  );
});

describe('SQLite key store on disk', () => {
  it('keeps the sha256 and never the key, in the database or its WAL', async () => {
    const dir = makeTempDir('ai-proxy-keys-');
    dirs.push(dir);
    const path = join(dir, 'keys.sqlite3');
    const store = track(new SqliteKeyStore({ path }));
    const { key, record } = await store.create({ name: 'disk' });
    const rotated = await store.rotate(record.id);
    const files = readdirSync(dir).map((name) => readFileSync(join(dir, name)));
    const all = Buffer.concat(files);
    expect(all.includes(Buffer.from(key))).toBe(false);
    expect(all.includes(Buffer.from(rotated?.key ?? 'missing'))).toBe(false);
    expect(all.includes(Buffer.from(keyHash(rotated?.key ?? '')))).toBe(true);
    // Nor any long piece of it.
    expect(all.includes(Buffer.from(key.slice(4, 24)))).toBe(false);
  });

  it('creates no file until the first write, and a reader started before the file sees it once written', async () => {
    const dir = makeTempDir('ai-proxy-keys-');
    dirs.push(dir);
    const path = join(dir, 'nested', 'keys.sqlite3');
    const reader = track(new SqliteKeyStore({ path, pollMs: 50 }));
    expect(await reader.list()).toEqual([]);
    expect(await reader.get('key_000000000000')).toBeUndefined();
    expect(await reader.revoke('key_000000000000')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    const writer = track(new SqliteKeyStore({ path, pollMs: 50 }));
    const { key } = await writer.create({ name: 'late' });
    await within(1000, () => reader.findByHash(keyHash(key)));
  });

  it('refuses a row that does not read back whole rather than treat it as unlimited', async () => {
    const dir = makeTempDir('ai-proxy-keys-');
    dirs.push(dir);
    const path = join(dir, 'keys.sqlite3');
    const damaged: string[] = [];
    const store = track(new SqliteKeyStore({ path, pollMs: 50, onDamaged: (id) => damaged.push(id) }));
    const { key, record } = await store.create({ name: 'ok', policy: { budgetTotal: 1 } });
    const raw = new Database(path);
    raw.prepare('UPDATE managed_keys SET policy = ? WHERE id = ?').run('{"budgetTotal":"lots"}', record.id);
    raw.close();
    await within(1000, () => (store.findByHash(keyHash(key)) === undefined ? true : undefined));
    expect(damaged).toContain(record.id);
  });
});

describe.runIf(haveRedis)('Redis key store', () => {
  it('stores the hash only, under REDIS_KEY_PREFIX', async () => {
    const prefix = uniquePrefix('managed-keys-raw');
    prefixes.push(prefix);
    const store = track(new RedisKeyStore({ url: REDIS_URL, prefix }));
    const { key, record } = await store.create({ name: 'r' });
    const raw = new Redis(REDIS_URL);
    try {
      const text = await raw.hget(`${prefix}managed-keys`, record.id);
      expect(text).toContain(record.hash);
      expect(text).not.toContain(key);
      expect(Number(await raw.get(`${prefix}managed-keys:version`))).toBeGreaterThan(0);
    } finally {
      raw.disconnect();
    }
  });

  it('keeps the last index while Redis is away, and says why a read fails', async () => {
    const prefix = uniquePrefix('managed-keys-away');
    prefixes.push(prefix);
    const writer = track(new RedisKeyStore({ url: REDIS_URL, prefix }));
    const { key } = await writer.create({ name: 'kept' });
    const errors: Error[] = [];
    const reader = track(
      new RedisKeyStore({ url: REDIS_URL, prefix, pollMs: 50, onError: (e) => errors.push(e) }),
    );
    await reader.ready();
    expect(reader.findByHash(keyHash(key))?.name).toBe('kept');
    reader.client.disconnect();
    await expect(reader.list()).rejects.toThrow();
    expect(reader.findByHash(keyHash(key))?.name).toBe('kept');
  });
});

describe('expiry as people write it', () => {
  const now = Date.UTC(2026, 0, 15, 12, 0, 0);
  it.each([
    ['30d', now + 30 * DAY],
    ['12h', now + 12 * 3_600_000],
    ['90m', now + 90 * 60_000],
    ['2w', now + 14 * DAY],
    ['2026-02-01', Date.UTC(2026, 1, 1)],
    ['2026-02-01T18:30', Date.UTC(2026, 1, 1, 18, 30)],
    ['2026-02-01T18:30:15Z', Date.UTC(2026, 1, 1, 18, 30, 15)],
    ['2026-02-01T18:30+02:00', Date.UTC(2026, 1, 1, 16, 30)],
  ])('%s', (text, expected) => {
    expect(parseExpiry(text, now)).toBe(expected);
  });

  it.each(['0d', 'soon', '30 days', '2026-02-30', '2026-13-01', '2026-02-01T25:00', '-5d'])(
    'refuses %s',
    (text) => {
      expect(() => parseExpiry(text, now)).toThrow(KeyInputError);
    },
  );

  it('an expired key is refused by its state, not by its status', () => {
    const record = {
      id: 'key_000000000001',
      hash: '0'.repeat(64),
      shortHash: '0'.repeat(16),
      name: 'x',
      owner: null,
      createdAt: now - DAY,
      updatedAt: now - DAY,
      expiresAt: now,
      status: 'active' as const,
      policy: {},
    };
    expect(keyState(record, now - 1)).toBe('active');
    expect(keyState(record, now)).toBe('expired');
  });
});

describe('where the SQLite key store lives', () => {
  it('KEYS_DB_PATH wins over keys_db_path, which wins over ./data/keys.sqlite3; relative to the folder', () => {
    const dir = makeTempDir('ai-proxy-keys-config-');
    dirs.push(dir);
    expect(loadConfig({ cwd: dir, env: {} }).managedKeys.dbPath).toBe(join(dir, 'data', 'keys.sqlite3'));
    writeFileSync(join(dir, 'config.yml'), 'keys_db_path: state/k.db\n');
    expect(loadConfig({ cwd: dir, env: {} }).managedKeys.dbPath).toBe(join(dir, 'state', 'k.db'));
    expect(loadConfig({ cwd: dir, env: { KEYS_DB_PATH: '/tmp/elsewhere.db' } }).managedKeys.dbPath).toBe(
      '/tmp/elsewhere.db',
    );
    writeFileSync(join(dir, 'config.yml'), "keys_db_path: ''\n");
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/keys_db_path/);
  });
});
