// The native TLS settings as loadConfig reads them: both files or neither, paths from the working
// directory, the environment over the config file, HSTS_MAX_AGE's default, bounds and 0.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { hstsHeader } from '../../src/server/tls-server.js';
import { makeTempDir, writeFiles } from '../support/gateway.js';

describe('TLS settings', () => {
  const dir = makeTempDir('ai-proxy-tls-config-');

  it('are off without TLS_CERT_FILE and TLS_KEY_FILE', () => {
    expect(loadConfig({ cwd: dir, env: {} }).tls).toBeUndefined();
  });

  it('resolve both paths from the working directory, with a year of HSTS by default', () => {
    const config = loadConfig({
      cwd: dir,
      env: { TLS_CERT_FILE: 'certs/a.crt', TLS_KEY_FILE: '/etc/k.key' },
    });
    expect(config.tls).toEqual({
      certFile: join(dir, 'certs/a.crt'),
      keyFile: '/etc/k.key',
      hstsMaxAgeSeconds: 31_536_000,
    });
    expect(hstsHeader(31_536_000)).toBe('max-age=31536000; includeSubDomains');
    expect(hstsHeader(0)).toBeUndefined();
  });

  it('refuse one file without the other, naming the missing one', () => {
    expect(() => loadConfig({ cwd: dir, env: { TLS_CERT_FILE: 'a.crt' } })).toThrow(
      'TLS_CERT_FILE is set but TLS_KEY_FILE is not',
    );
    expect(() => loadConfig({ cwd: dir, env: { TLS_KEY_FILE: 'a.key' } })).toThrow(
      'TLS_KEY_FILE is set but TLS_CERT_FILE is not',
    );
  });

  it('take HSTS_MAX_AGE from 0 to two years, and nothing else', () => {
    const env = { TLS_CERT_FILE: 'a.crt', TLS_KEY_FILE: 'a.key' };
    expect(loadConfig({ cwd: dir, env: { ...env, HSTS_MAX_AGE: '0' } }).tls?.hstsMaxAgeSeconds).toBe(0);
    expect(() => loadConfig({ cwd: dir, env: { ...env, HSTS_MAX_AGE: '-1' } })).toThrow('HSTS_MAX_AGE');
    expect(() => loadConfig({ cwd: dir, env: { ...env, HSTS_MAX_AGE: '1y' } })).toThrow('HSTS_MAX_AGE');
  });

  it('come from the config file too, the environment winning', () => {
    const fileDir = makeTempDir('ai-proxy-tls-config-');
    writeFiles(fileDir, {
      'config.yml': 'tls_cert_file: file.crt\ntls_key_file: file.key\nhsts_max_age: 600\n',
    });
    const fromFile = loadConfig({ cwd: fileDir, env: {} });
    expect(fromFile.tls).toEqual({
      certFile: join(fileDir, 'file.crt'),
      keyFile: join(fileDir, 'file.key'),
      hstsMaxAgeSeconds: 600,
    });
    expect(loadConfig({ cwd: fileDir, env: { TLS_CERT_FILE: 'env.crt' } }).tls?.certFile).toBe(
      join(fileDir, 'env.crt'),
    );
  });
});
