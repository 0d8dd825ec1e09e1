// Where stored responses live and for how long (RESPONSES_TTL_DAYS, RESPONSES_DB_PATH, REDIS_URL),
// from the environment and the config file, and the factory's choice of store.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createResponseStore } from '../../src/responses/response-store-factory.js';
import { responseTtlMs } from '../../src/responses/settings.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';
import { REDIS_URL, redisForTests } from '../support/redis.js';

const haveRedis = await redisForTests();
const dirs: string[] = [];
const silent = pino({ level: 'silent' });

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(files: Record<string, string> = {}): string {
  const dir = makeTempDir('ai-proxy-response-settings-');
  dirs.push(dir);
  writeFiles(dir, files);
  return dir;
}

describe('stored-response settings', () => {
  it('default to 30 days in ./data/responses.sqlite3 under the working directory', () => {
    const cwd = tempDir();
    const config = loadConfig({ cwd, env: {} });
    expect(config.responseStore).toEqual({ ttlDays: 30, dbPath: join(cwd, 'data', 'responses.sqlite3') });
    expect(responseTtlMs(config.responseStore)).toBe(30 * 86_400_000);
  });

  it('come from the config file, and the environment wins over it', () => {
    const cwd = tempDir({ 'config.yml': 'responses_ttl_days: 7\nresponses_db_path: state/r.db\n' });
    expect(loadConfig({ cwd, env: {} }).responseStore).toEqual({
      ttlDays: 7,
      dbPath: join(cwd, 'state', 'r.db'),
    });
    const fromEnv = loadConfig({
      cwd,
      env: { RESPONSES_TTL_DAYS: '2', RESPONSES_DB_PATH: '/tmp/x/responses.db' },
    });
    expect(fromEnv.responseStore).toEqual({ ttlDays: 2, dbPath: '/tmp/x/responses.db' });
  });

  it.each(['0', '-1', '1.5', 'month', '3651'])('refuse RESPONSES_TTL_DAYS=%s, naming it', (value) => {
    expect(() => loadConfig({ cwd: tempDir(), env: { RESPONSES_TTL_DAYS: value } })).toThrow(
      /RESPONSES_TTL_DAYS/,
    );
  });

  it('refuse a bad value in the file, naming the key', () => {
    const cwd = tempDir({ 'config.yml': 'responses_ttl_days: 0\n' });
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/responses_ttl_days/);
  });
});

describe('createResponseStore', () => {
  it('opens SQLite on first use only, at RESPONSES_DB_PATH', async () => {
    const cwd = tempDir();
    const store = createResponseStore(loadConfig({ cwd, env: {} }), silent);
    const path = join(cwd, 'data', 'responses.sqlite3');
    expect(store.kind).toBe('sqlite');
    expect(existsSync(path)).toBe(false);
    expect(await store.get('resp_none')).toBeUndefined();
    expect(existsSync(path)).toBe(true);
    await store.close();
    await expect(store.get('resp_none')).rejects.toThrow(/closed/);
  });

  it('closes without ever opening', async () => {
    const cwd = tempDir();
    const store = createResponseStore(loadConfig({ cwd, env: {} }), silent);
    await store.close();
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it.runIf(haveRedis)('uses Redis when REDIS_URL is set, and creates no file', async () => {
    const cwd = tempDir();
    const prefix = `ai-proxy-test:factory:${process.pid}:${Date.now()}:`;
    const config = loadConfig({ cwd, env: { REDIS_URL, REDIS_KEY_PREFIX: prefix } });
    const store = createResponseStore(config, silent);
    expect(store.kind).toBe('redis');
    const now = Date.now();
    await store.put({
      id: 'resp_factory',
      owner: null,
      createdAt: now,
      expiresAt: now + 10_000,
      model: 'm',
      provider: 'p',
      keyId: 'k',
      native: true,
      input: [],
      response: null,
    });
    expect(await store.get('resp_factory')).toMatchObject({ id: 'resp_factory', native: true });
    expect(await store.delete('resp_factory')).toBe(true);
    await store.close();
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });
});
