// The stored-responses stores, SQLite and Redis, through one table of cases: round trip, ids given
// to input items, TTL expiry (on read and by Redis itself), delete, ownership, the size bound; then
// what only one of them does (the SQLite purge and file, Redis shared by two instances and away).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RedisResponseStore } from '../../src/responses/redis-response-store.js';
import {
  RecordTooLargeError,
  type ResponseStore,
  type StoredResponse,
  visibleTo,
} from '../../src/responses/response-store.js';
import { SqliteResponseStore } from '../../src/responses/sqlite-response-store.js';
import { makeTempDir } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();
const DAY = 86_400_000;
const dirs: string[] = [];
const prefixes: string[] = [];

/** A Redis key prefix of this run's own, removed with everything under it at the end. */
function testPrefix(name: string): string {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  return prefix;
}

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

/** A clock the test moves by hand. */
function clock(start = 1_760_000_000_000) {
  const state = { now: start };
  return { state, now: () => state.now };
}

function record(id: string, now: number, overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    id,
    owner: 'client-a',
    createdAt: now,
    expiresAt: now + 30 * DAY,
    model: 'claude-sonnet-4-5',
    provider: 'anthropic',
    keyId: 'anthropic-key-1',
    native: false,
    input: [
      { role: 'user', content: 'What is the capital of France?' },
      { type: 'message', role: 'assistant', content: 'Paris.' },
      { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' },
      { type: 'message', id: 'msg_kept', role: 'user', content: [{ type: 'input_text', text: 'Thanks' }] },
    ],
    response: {
      id,
      object: 'response',
      status: 'completed',
      model: 'claude-sonnet-4-5',
      output: [
        {
          type: 'message',
          id: 'msg_out',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'You are welcome.', annotations: [] }],
        },
      ],
    },
    ...overrides,
  };
}

interface Subject {
  store: ResponseStore;
  clock: ReturnType<typeof clock>;
}

type Maker = (options: { maxRecordBytes?: number }) => Subject;

const opened: ResponseStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

function sqliteMaker(): Maker {
  return ({ maxRecordBytes }) => {
    const dir = makeTempDir('ai-proxy-responses-');
    dirs.push(dir);
    const time = clock();
    const store = new SqliteResponseStore({
      path: join(dir, 'data', 'responses.sqlite3'),
      maxRecordBytes,
      now: time.now,
    });
    opened.push(store);
    return { store, clock: time };
  };
}

function redisMaker(prefix: string): Maker {
  return ({ maxRecordBytes }) => {
    // Redis's own clock runs for real: the test clock starts at the real time.
    const time = clock(Date.now());
    const store = new RedisResponseStore({
      url: REDIS_URL,
      prefix,
      maxRecordBytes,
      now: time.now,
      onError: () => {},
    });
    opened.push(store);
    return { store, clock: time };
  };
}

const makers: [string, Maker, boolean][] = [
  ['sqlite', sqliteMaker(), true],
  ['redis', redisMaker(testPrefix('responses')), haveRedis],
];

describe.each(makers)('%s response store', (_name, make, available) => {
  it.runIf(available)('keeps a record and gives it back, input items with ids and in full form', async () => {
    const { store, clock: time } = make({});
    await store.put(record('resp_1', time.state.now));
    const got = await store.get('resp_1');
    expect(got).toBeDefined();
    const expected = record('resp_1', time.state.now);
    expect({ ...got, input: undefined }).toEqual({ ...expected, input: undefined });
    const items = got?.input as Record<string, unknown>[];
    expect(items).toHaveLength(4);
    expect(items[0]).toEqual({
      id: expect.stringMatching(/^msg_[0-9a-f]{48}$/),
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'What is the capital of France?' }],
    });
    expect(items[1]).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'Paris.', annotations: [] }],
    });
    expect(items[2]).toMatchObject({
      id: expect.stringMatching(/^fco_/),
      type: 'function_call_output',
      call_id: 'call_1',
    });
    // An item that has an id keeps it, and is otherwise untouched.
    expect(items[3]).toEqual(expected.input[3]);
    expect(new Set(items.map((item) => item.id)).size).toBe(4);
  });

  it.runIf(available)('knows nothing of an unknown id', async () => {
    const { store } = make({});
    expect(await store.get('resp_never')).toBeUndefined();
    expect(await store.delete('resp_never')).toBe(false);
  });

  it.runIf(available)('replaces a record put again with the same id', async () => {
    const { store, clock: time } = make({});
    await store.put(record('resp_2', time.state.now));
    await store.put(record('resp_2', time.state.now, { model: 'gemini-2.5-flash', provider: 'gemini' }));
    expect(await store.get('resp_2')).toMatchObject({ model: 'gemini-2.5-flash', provider: 'gemini' });
  });

  it.runIf(available)('keeps a native record: only where the upstream keeps it', async () => {
    const { store, clock: time } = make({});
    const native = record('resp_native', time.state.now, {
      native: true,
      provider: 'openai',
      keyId: 'openai-key-2',
      owner: null,
      input: [],
      response: null,
    });
    await store.put(native);
    expect(await store.get('resp_native')).toEqual(native);
  });

  it.runIf(available)('forgets a record once it expires', async () => {
    const { store, clock: time } = make({});
    await store.put(record('resp_3', time.state.now, { expiresAt: time.state.now + 60_000 }));
    time.state.now += 59_999;
    expect(await store.get('resp_3')).toBeDefined();
    time.state.now += 1;
    expect(await store.get('resp_3')).toBeUndefined();
    expect(await store.delete('resp_3')).toBe(false);
  });

  it.runIf(available)('does not keep a record that is already expired', async () => {
    const { store, clock: time } = make({});
    await store.put(record('resp_old', time.state.now, { expiresAt: time.state.now - 1 }));
    expect(await store.get('resp_old')).toBeUndefined();
  });

  it.runIf(available)('deletes a record once', async () => {
    const { store, clock: time } = make({});
    await store.put(record('resp_4', time.state.now));
    expect(await store.delete('resp_4')).toBe(true);
    expect(await store.get('resp_4')).toBeUndefined();
    expect(await store.delete('resp_4')).toBe(false);
  });

  it.runIf(available)('refuses a record over the size bound and keeps nothing of it', async () => {
    const { store, clock: time } = make({ maxRecordBytes: 4096 });
    await store.put(record('resp_small', time.state.now));
    const big = record('resp_big', time.state.now, { input: [{ role: 'user', content: 'x'.repeat(5000) }] });
    const refused = await store.put(big).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RecordTooLargeError);
    expect((refused as RecordTooLargeError).message).toMatch(
      /resp_big not stored: \d+ bytes is over the 4096-byte limit/,
    );
    expect(await store.get('resp_big')).toBeUndefined();
    expect(await store.get('resp_small')).toBeDefined();
  });

  it.runIf(available)('hands a record to its owner only (visibleTo)', async () => {
    const { store, clock: time } = make({});
    await store.put(record('resp_5', time.state.now, { owner: 'client-a' }));
    await store.put(record('resp_open', time.state.now, { owner: null }));
    const mine = await store.get('resp_5');
    expect(visibleTo(mine, 'client-a')).toBe(true);
    expect(visibleTo(mine, 'client-b')).toBe(false);
    expect(visibleTo(mine, null)).toBe(false);
    const open = await store.get('resp_open');
    expect(visibleTo(open, null)).toBe(true);
    expect(visibleTo(open, 'client-a')).toBe(false);
    expect(visibleTo(undefined, null)).toBe(false);
  });
});

describe('SQLite response store', () => {
  it('lives in one WAL file that a new store reads back', async () => {
    const dir = makeTempDir('ai-proxy-responses-');
    dirs.push(dir);
    const path = join(dir, 'nested', 'responses.sqlite3');
    const first = new SqliteResponseStore({ path });
    const now = Date.now();
    await first.put(record('resp_file', now));
    await first.close();
    expect(existsSync(path)).toBe(true);
    const second = new SqliteResponseStore({ path });
    opened.push(second);
    expect(await second.get('resp_file')).toMatchObject({ id: 'resp_file', owner: 'client-a' });
  });

  it('purges expired rows, on its timer and when a new store opens', async () => {
    const dir = makeTempDir('ai-proxy-responses-');
    dirs.push(dir);
    const path = join(dir, 'responses.sqlite3');
    const time = clock();
    const store = new SqliteResponseStore({ path, now: time.now, purgeIntervalMs: 20 });
    opened.push(store);
    await store.put(record('resp_a', time.state.now, { expiresAt: time.state.now + 1000 }));
    await store.put(record('resp_b', time.state.now, { expiresAt: time.state.now + 5000 }));
    expect(store.purge()).toBe(0);
    time.state.now += 2000;
    // The timer's purge removes resp_a without anyone reading it.
    await new Promise((resolve) => setTimeout(resolve, 80));
    const peek = new SqliteResponseStore({ path, now: () => 0 });
    opened.push(peek);
    expect(await peek.get('resp_a')).toBeUndefined();
    expect(await peek.get('resp_b')).toBeDefined();
    time.state.now += 5000;
    expect(store.purge()).toBe(1);
  });

  it('reads a damaged row as missing instead of throwing', async () => {
    const dir = makeTempDir('ai-proxy-responses-');
    dirs.push(dir);
    const path = join(dir, 'responses.sqlite3');
    const store = new SqliteResponseStore({ path });
    opened.push(store);
    await store.put(record('resp_bad', Date.now()));
    // Puts are written together just after their tick; write this one now so the damage lands on it.
    store.flush();
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    db.prepare("UPDATE responses SET input = '{not json' WHERE id = 'resp_bad'").run();
    db.close();
    expect(await store.get('resp_bad')).toBeUndefined();
  });
});

describe.runIf(haveRedis)('Redis response store', () => {
  it('is shared: a record put by one instance is read and deleted by another', async () => {
    const prefix = testPrefix('responses-shared');
    const one = new RedisResponseStore({ url: REDIS_URL, prefix, onError: () => {} });
    const two = new RedisResponseStore({ url: REDIS_URL, prefix, onError: () => {} });
    opened.push(one, two);
    await one.put(record('resp_shared', Date.now()));
    expect(await two.get('resp_shared')).toMatchObject({ id: 'resp_shared', provider: 'anthropic' });
    expect(await two.delete('resp_shared')).toBe(true);
    expect(await one.get('resp_shared')).toBeUndefined();
  });

  it('keeps one key per response under REDIS_KEY_PREFIX, with a TTL Redis enforces', async () => {
    const prefix = testPrefix('responses-ttl');
    const store = new RedisResponseStore({ url: REDIS_URL, prefix, onError: () => {} });
    opened.push(store);
    const now = Date.now();
    await store.put(record('resp_ttl', now, { expiresAt: now + 300 }));
    const raw = new Redis(REDIS_URL);
    try {
      const ttl = await raw.pttl(`${prefix}response:resp_ttl`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
      expect(JSON.parse((await raw.get(`${prefix}response:resp_ttl`)) ?? 'null')).toMatchObject({
        id: 'resp_ttl',
      });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await raw.exists(`${prefix}response:resp_ttl`)).toBe(0);
    } finally {
      raw.disconnect();
    }
    expect(await store.get('resp_ttl')).toBeUndefined();
  });

  it('reads a value that is not a record as missing', async () => {
    const prefix = testPrefix('responses-bad');
    const store = new RedisResponseStore({ url: REDIS_URL, prefix, onError: () => {} });
    opened.push(store);
    const raw = new Redis(REDIS_URL);
    try {
      await raw.set(`${prefix}response:resp_junk`, '{"id":"resp_junk"}', 'PX', 10_000);
      await raw.set(`${prefix}response:resp_text`, 'not json', 'PX', 10_000);
    } finally {
      raw.disconnect();
    }
    expect(await store.get('resp_junk')).toBeUndefined();
    expect(await store.get('resp_text')).toBeUndefined();
  });
});

describe('Redis response store while Redis is away', () => {
  it('rejects put and get within its command deadline', async () => {
    // A port nothing listens on: connections are refused at once.
    const store = new RedisResponseStore({
      url: 'redis://127.0.0.1:1',
      prefix: 'ai-proxy-test:away:',
      commandTimeoutMs: 300,
      onError: () => {},
    });
    opened.push(store);
    const started = Date.now();
    await expect(store.put(record('resp_away', Date.now()))).rejects.toThrow();
    await expect(store.get('resp_away')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
