// `ai-proxy keys …` as a user runs it: the built CLI as a child process in a fresh folder. The key
// is printed once (create, rotate) and never by list or show; bad input exits non-zero naming the
// option; KEYS_DB_PATH and keys_db_path are honoured; a store open in another process (as the
// running server's is) sees the CLI's create, revoke and rotate within a second, with SQLite and
// with Redis.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keyHash } from '../../src/managed-keys/key-format.js';
import type { KeyStore } from '../../src/managed-keys/key-store.js';
import { RedisKeyStore } from '../../src/managed-keys/key-store-redis.js';
import { SqliteKeyStore } from '../../src/managed-keys/key-store-sqlite.js';
import { type CliResult, runCli } from '../support/cli.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';

const haveRedis = await redisForTests();
const dirs: string[] = [];
const stores: KeyStore[] = [];
const prefixes: string[] = [];

function folder(files: Record<string, string> = {}): string {
  const dir = makeTempDir('ai-proxy-keys-cli-');
  dirs.push(dir);
  writeFiles(dir, files);
  return dir;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (!haveRedis || prefixes.length === 0) return;
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

function keys(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['keys', ...args], { cwd, env });
}

function json(result: CliResult): Record<string, unknown> {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

async function within<T>(ms: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ai-proxy keys', () => {
  it('create prints the key once; list and show never print it', async () => {
    const cwd = folder();
    const created = await keys(cwd, [
      'create',
      '--name',
      'ci bot',
      '--owner',
      'team-a',
      '--models',
      'gpt-4o*,anthropic:*',
      '--rpm',
      '60',
      '--tpd',
      '100000',
      '--budget-day',
      '2.50',
      '--budget-total',
      '100',
      '--expires',
      '2099-01-31',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^aip-[A-Za-z0-9]{40}$/);
    expect(created.stderr).toMatch(/shown this once/);
    expect(existsSync(join(cwd, 'data', 'keys.sqlite3'))).toBe(true);

    const list = await keys(cwd, ['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(key);
    expect(list.stdout).toMatch(/ci bot\s+team-a\s+active\s+2099-01-31T00:00:00Z/);
    expect(list.stdout).toContain(
      'models=gpt-4o*,anthropic:* rpm=60 tpd=100000 budget_day=$2.5 budget_total=$100',
    );

    const listed = json(await keys(cwd, ['list', '--json']));
    const [record] = listed.data as Record<string, unknown>[];
    expect(record).toMatchObject({
      object: 'managed_key',
      name: 'ci bot',
      owner: 'team-a',
      status: 'active',
      key_hash: keyHash(key).slice(0, 16),
      expires_at: '2099-01-31T00:00:00.000Z',
      policy: {
        models: ['gpt-4o*', 'anthropic:*'],
        rpm: 60,
        tpd: 100000,
        budget_day: 2.5,
        budget_total: 100,
      },
    });
    const id = String(record?.id);
    const show = await keys(cwd, ['show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`id:       ${id}`);
    expect(show.stdout).not.toContain(key);
    expect(JSON.stringify(json(await keys(cwd, ['show', id, '--json'])))).not.toContain(key);
  });

  it('update sets and removes (none), rotate prints a new key, revoke ends it', async () => {
    const cwd = folder();
    const created = json(
      await keys(cwd, ['create', '--name', 'a', '--rpm', '5', '--owner', 'o', '--expires', '7d', '--json']),
    );
    const id = String(created.id);
    const first = String(created.key);
    expect(first).toMatch(/^aip-/);

    const updated = json(
      await keys(cwd, [
        'update',
        id,
        '--rpm',
        'none',
        '--tpm',
        '900',
        '--owner',
        'none',
        '--expires',
        'never',
        '--name',
        'b',
        '--json',
      ]),
    );
    expect(updated).toMatchObject({ name: 'b', owner: null, expires_at: null, policy: { tpm: 900 } });
    expect((updated.policy as Record<string, unknown>).rpm).toBeUndefined();

    const rotated = await keys(cwd, ['rotate', id]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const second = rotated.stdout.trim();
    expect(second).toMatch(/^aip-/);
    expect(second).not.toBe(first);
    expect(rotated.stderr).toMatch(/previous key stops working/);

    const revoked = await keys(cwd, ['revoke', id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${id}`);
    const shown = json(await keys(cwd, ['show', id, '--json']));
    expect(shown).toMatchObject({ id, status: 'revoked', key_hash: keyHash(second).slice(0, 16) });

    const again = await keys(cwd, ['rotate', id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/revoked/);
  });

  it('refuses bad input with a message naming it, and exits non-zero', async () => {
    const cwd = folder();
    const cases: [string[], RegExp][] = [
      [['create'], /--name/],
      [['create', '--name', 'x', '--rpm', '0'], /--rpm/],
      [['create', '--name', 'x', '--rpm', 'ten'], /--rpm/],
      [['create', '--name', 'x', '--budget-day', '-3'], /--budget-day/],
      [['create', '--name', 'x', '--models', 'gpt-4o,,x'], /--models/],
      [['create', '--name', 'x', '--expires', '2026-02-30'], /--expires/],
      [['create', '--name', 'x', '--expires', 'soon'], /--expires/],
      [['create', '--name', 'x', '--expires', '2001-01-01'], /--expires.*past/],
      [['create', '--name', '   '], /--name/],
      [['show', 'nope'], /not a key id/],
      [['show', 'key_000000000000'], /no managed key key_000000000000/],
      [['revoke', 'key_000000000000'], /no managed key/],
      [['update', 'key_000000000000'], /nothing to change/],
    ];
    for (const [args, message] of cases) {
      const result = await keys(cwd, args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stdout).not.toMatch(/aip-/);
    }
    // Nothing was written by any of them.
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('uses KEYS_DB_PATH, or keys_db_path from the config file', async () => {
    const cwd = folder({ 'config.yml': 'keys_db_path: state/managed.db\n' });
    expect((await keys(cwd, ['create', '--name', 'from file'])).code).toBe(0);
    expect(existsSync(join(cwd, 'state', 'managed.db'))).toBe(true);
    const env = { KEYS_DB_PATH: join(cwd, 'elsewhere', 'k.db') };
    expect((await keys(cwd, ['create', '--name', 'from env'], env)).code).toBe(0);
    expect(existsSync(join(cwd, 'elsewhere', 'k.db'))).toBe(true);
    const listed = json(await keys(cwd, ['list', '--json'], env));
    expect((listed.data as { name: string }[]).map((k) => k.name)).toEqual(['from env']);
  });

  it('a store open in another process sees the CLI create, revoke and rotate within a second (SQLite)', async () => {
    const cwd = folder();
    const server = new SqliteKeyStore({ path: join(cwd, 'data', 'keys.sqlite3'), pollMs: 250 });
    stores.push(server);
    const created = json(await keys(cwd, ['create', '--name', 'live', '--json']));
    let since = Date.now();
    await within(1000, () => server.findByHash(keyHash(String(created.key))));
    expect(Date.now() - since).toBeLessThan(1000);

    await keys(cwd, ['revoke', String(created.id)]);
    since = Date.now();
    await within(1000, () =>
      server.findByHash(keyHash(String(created.key)))?.status === 'revoked' ? true : undefined,
    );
    expect(Date.now() - since).toBeLessThan(1000);

    const other = json(await keys(cwd, ['create', '--name', 'other', '--json']));
    await within(1000, () => server.findByHash(keyHash(String(other.key))));
    const rotated = (await keys(cwd, ['rotate', String(other.id)])).stdout.trim();
    await within(1000, () => server.findByHash(keyHash(rotated)));
    expect(server.findByHash(keyHash(String(other.key)))).toBeUndefined();
  });

  it.runIf(haveRedis)(
    'with REDIS_URL the keys live in Redis, and every store on it sees the CLI change within a second',
    async () => {
      const cwd = folder();
      const prefix = uniquePrefix('keys-cli');
      prefixes.push(prefix);
      const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix };
      const instances = [1, 2].map(() => new RedisKeyStore({ url: REDIS_URL, prefix, pollMs: 250 }));
      stores.push(...instances);
      await Promise.all(instances.map((store) => store.ready()));
      const created = json(await keys(cwd, ['create', '--name', 'shared', '--rpd', '10', '--json'], env));
      const hash = keyHash(String(created.key));
      for (const store of instances) await within(1000, () => store.findByHash(hash));
      await keys(cwd, ['revoke', String(created.id)], env);
      const since = Date.now();
      for (const store of instances) {
        await within(1000, () => (store.findByHash(hash)?.status === 'revoked' ? true : undefined));
      }
      expect(Date.now() - since).toBeLessThan(1000);
      const listed = json(await keys(cwd, ['list', '--json'], env));
      expect(listed.data).toHaveLength(1);
      expect(readdirSync(cwd)).not.toContain('data');
    },
  );
});
