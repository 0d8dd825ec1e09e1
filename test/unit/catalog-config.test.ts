// MODEL_LIST_* settings: read from the environment or .env, validated with the variable named.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeConfig } from '../../src/cli/config-check.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

const dirs: string[] = [];

function dirWith(files: Record<string, string>): string {
  const dir = makeTempDir('ai-proxy-catalog-config-');
  dirs.push(dir);
  writeFiles(dir, files);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('catalog settings', () => {
  it('are off without MODEL_LIST_URL: no URL is built in', () => {
    expect(loadConfig({ cwd: dirWith({}), env: {} }).catalog).toBeUndefined();
    expect(loadConfig({ cwd: dirWith({}), env: { MODEL_LIST_AUTH_TOKEN: 't' } }).catalog).toBeUndefined();
  });

  it('come from .env as seed 001 writes it, with the 300 s default refresh', () => {
    const dir = dirWith({
      '.env': 'MODEL_LIST_URL=https://catalog.test/models\nMODEL_LIST_AUTH_TOKEN=tok # Optional\n',
    });
    expect(loadConfig({ cwd: dir, env: {} }).catalog).toEqual({
      url: 'https://catalog.test/models',
      authToken: 'tok',
      refreshSeconds: 300,
    });
  });

  it('take MODEL_LIST_REFRESH_SECONDS from the environment over .env', () => {
    const dir = dirWith({ '.env': 'MODEL_LIST_URL=https://a.test/m\nMODEL_LIST_REFRESH_SECONDS=60\n' });
    expect(loadConfig({ cwd: dir, env: {} }).catalog?.refreshSeconds).toBe(60);
    expect(loadConfig({ cwd: dir, env: { MODEL_LIST_REFRESH_SECONDS: '5' } }).catalog?.refreshSeconds).toBe(
      5,
    );
  });

  it('refuse a URL that is not http(s) and a refresh that is not a positive integer', () => {
    const cwd = dirWith({});
    expect(() => loadConfig({ cwd, env: { MODEL_LIST_URL: 'catalog.test/models' } })).toThrow(
      /MODEL_LIST_URL: expected an http\(s\) URL/,
    );
    expect(() => loadConfig({ cwd, env: { MODEL_LIST_URL: 'ftp://catalog.test/models' } })).toThrow(
      ConfigError,
    );
    expect(() =>
      loadConfig({ cwd, env: { MODEL_LIST_URL: 'https://a.test/m', MODEL_LIST_REFRESH_SECONDS: '0' } }),
    ).toThrow(/MODEL_LIST_REFRESH_SECONDS: expected an integer from 1 to 86400/);
  });

  it('show in `config check` without the token or the query string', () => {
    const config = loadConfig({
      cwd: dirWith({}),
      env: { MODEL_LIST_URL: 'https://a.test/models?sig=secret-sig', MODEL_LIST_AUTH_TOKEN: 'secret-token' },
    });
    const summary = describeConfig(config);
    expect(summary.model_catalog).toEqual({
      url: 'https://a.test/models',
      auth_token: 'set',
      refresh_seconds: 300,
    });
    expect(JSON.stringify(summary)).not.toMatch(/secret-(token|sig)/);
  });
});

describe('catalog and log store settings in the config file', () => {
  it('model_list_* keys work, and the environment wins over them', () => {
    const cwd = dirWith({
      'config.yml':
        'model_list_url: https://file.test/models\nmodel_list_auth_token: file-token\nmodel_list_refresh_seconds: 42\n',
    });
    expect(loadConfig({ cwd, env: {} }).catalog).toEqual({
      url: 'https://file.test/models',
      authToken: 'file-token',
      refreshSeconds: 42,
    });
    expect(loadConfig({ cwd, env: { MODEL_LIST_URL: 'https://env.test/m' } }).catalog?.url).toBe(
      'https://env.test/m',
    );
  });

  it('a logdb section sets the LOGDB_* defaults; the environment wins; typos are named', () => {
    const cwd = dirWith({
      'config.yml':
        'logdb:\n  enabled: true\n  fts_enabled: true\n  partition_granularity: weekly\n  import_parallelism: 3\n',
    });
    expect(loadConfig({ cwd, env: {} }).logdb).toMatchObject({
      enabled: true,
      ftsEnabled: true,
      groupingEnabled: false,
      granularity: 'weekly',
      importParallelism: 3,
    });
    expect(loadConfig({ cwd, env: { LOGDB_ENABLED: 'false' } }).logdb.enabled).toBe(false);
    const typo = dirWith({ 'config.yml': 'logdb:\n  enable: true\n' });
    expect(() => loadConfig({ cwd: typo, env: {} })).toThrow(/logdb.*enable/);
    const bad = dirWith({ 'config.yml': 'model_list_url: ftp://x.test/models\n' });
    expect(() => loadConfig({ cwd: bad, env: {} })).toThrow(ConfigError);
  });
});
