import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isLoopbackHost } from '../../src/server/client-auth.js';
import { checkExposure, StartupError, startGateway } from '../../src/server/start.js';
import { ProviderEmulator } from '../support/emulator.js';
import {
  CLIENT_KEY,
  makeTempDir,
  startTestGateway,
  type TestGateway,
  writeFiles,
} from '../support/gateway.js';
import { SEED_003_CONFIG } from '../support/seeds.js';

const UPSTREAM_KEY = 'sk-upstream-secret-auth-1';
const KEYS_FILE = 'keys/forwarder_api_keys.txt';

/** A raw GET, so the test sees exactly what went over the wire. */
async function get(gw: TestGateway, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${gw.url}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

async function status(gw: TestGateway, key: string | undefined): Promise<number> {
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  return (await get(gw, '/v1/models', headers)).status;
}

function expectInvalidApiKey(result: { status: number; text: string }): void {
  expect(result.status).toBe(401);
  const body = JSON.parse(result.text) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message).not.toBe('');
}

/** Every request-log line as text, straight from the files. */
function requestLogText(gw: TestGateway): string {
  const dir = join(gw.gateway.runtime.config.log.dir, 'requests');
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('');
}

describe('client auth with a configured key', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${upstream.url}/v1` },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('accepts Authorization: Bearer (through the OpenAI SDK)', async () => {
    const completion = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    expect(completion.choices[0]?.message.content).toContain('Hello from emulator');
  });

  it('accepts the Bearer scheme in any case and with extra spaces', async () => {
    expect((await get(gw, '/v1/models', { authorization: `bearer ${CLIENT_KEY}` })).status).toBe(200);
    expect((await get(gw, '/v1/models', { authorization: `Bearer   ${CLIENT_KEY}  ` })).status).toBe(200);
  });

  it('accepts x-api-key', async () => {
    expect((await get(gw, '/v1/models', { 'x-api-key': CLIENT_KEY })).status).toBe(200);
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'x-api-key': CLIENT_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);
  });

  it('answers a missing key with 401 invalid_api_key in the OpenAI shape', async () => {
    const result = await get(gw, '/v1/models');
    expectInvalidApiKey(result);
    expect(result.headers.get('x-request-id')).toMatch(/^req_/);
    // POST too, and before the body is even looked at.
    const post = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}',
    });
    expectInvalidApiKey({ status: post.status, text: await post.text() });
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers a wrong key with 401, and the SDK sees an AuthenticationError', async () => {
    expectInvalidApiKey(await get(gw, '/v1/models', { authorization: 'Bearer not-the-key' }));
    expectInvalidApiKey(await get(gw, '/v1/models', { 'x-api-key': 'not-the-key' }));
    // A prefix or an extension of the real key is still wrong.
    expectInvalidApiKey(await get(gw, '/v1/models', { 'x-api-key': CLIENT_KEY.slice(0, -1) }));
    expectInvalidApiKey(await get(gw, '/v1/models', { 'x-api-key': `${CLIENT_KEY}x` }));
    expectInvalidApiKey(await get(gw, '/v1/models', { authorization: 'Basic dXNlcjpwYXNz' }));
    const error = await gw
      .client('wrong-key')
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    expect(upstream.requests).toHaveLength(0);
  });

  it('keeps a 401 for an unknown /v1 route without a key (no route probing)', async () => {
    expectInvalidApiKey(await get(gw, '/v1/no-such-route'));
  });

  it('serves GET /health and GET / without a key', async () => {
    const health = await get(gw, '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok' });
    const page = await get(gw, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('never writes a client key to the process log or the request log; logs carry a short stable hash', async () => {
    const other = 'definitely-wrong-client-key-42';
    await gw.client().models.list();
    await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await get(gw, '/v1/models', { 'x-api-key': CLIENT_KEY });
    await get(gw, '/v1/models', { authorization: `Bearer ${other}` });
    const records = await gw.requestLog();
    const ok = records.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(3);
    const hashes = new Set(ok.map((r) => r.client_key_hash));
    expect(hashes.size).toBe(1);
    const [hash] = [...hashes];
    expect(hash).toMatch(/^[0-9a-f]{8,16}$/);
    const rejected = records.find((r) => r.status === 401);
    expect(rejected).toBeDefined();
    expect(rejected?.client_key_hash).not.toBe(hash);

    const processLog = gw.processLog.join('\n');
    const requestLog = requestLogText(gw);
    for (const secret of [CLIENT_KEY, other, UPSTREAM_KEY]) {
      expect(processLog).not.toContain(secret);
      expect(requestLog).not.toContain(secret);
    }
  });
});

describe('client keys from every source', () => {
  const gateways: TestGateway[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gw) => gw.stop()));
  });
  async function start(options: Parameters<typeof startTestGateway>[0]): Promise<TestGateway> {
    const gw = await startTestGateway({ noDefaultKey: true, ...options });
    gateways.push(gw);
    return gw;
  }

  it('API_KEYS holds a comma-separated list', async () => {
    const gw = await start({ env: { API_KEYS: 'env-key-one, env-key-two ,env-key-three' } });
    for (const key of ['env-key-one', 'env-key-two', 'env-key-three'])
      expect(await status(gw, key)).toBe(200);
    expect(await status(gw, 'env-key-one, env-key-two')).toBe(401);
    expect(await status(gw, undefined)).toBe(401);
  });

  it('keys/forwarder_api_keys.txt: one key a line, # comments and blank lines skipped', async () => {
    const gw = await start({
      files: {
        [KEYS_FILE]: [
          '# client keys, one a line',
          '',
          'fwd_file_key_one',
          '   ',
          '  fwd_file_key_two  ',
          '# fwd_commented_out_key',
          'fwd_file_key_three\r',
          '',
        ].join('\n'),
      },
    });
    for (const key of ['fwd_file_key_one', 'fwd_file_key_two', 'fwd_file_key_three']) {
      expect(await status(gw, key)).toBe(200);
    }
    expect(await status(gw, 'fwd_commented_out_key')).toBe(401);
    expect(await status(gw, '# fwd_commented_out_key')).toBe(401);
    expect(await status(gw, undefined)).toBe(401);
  });

  it('config.yml access_key and api_keys', async () => {
    const gw = await start({
      files: {
        'config.yml': 'access_key: yaml-access-key\napi_keys:\n  - yaml-api-key-1\n  - yaml-api-key-2\n',
      },
    });
    for (const key of ['yaml-access-key', 'yaml-api-key-1', 'yaml-api-key-2'])
      expect(await status(gw, key)).toBe(200);
    expect(await status(gw, 'yaml-api-key-3')).toBe(401);
  });

  it("seed 003's config.json access_key, with the file exactly as the seed documents it", async () => {
    const gw = await start({ files: { 'config.json': SEED_003_CONFIG } });
    expect(await status(gw, 'your-proxy-access-key')).toBe(200);
    expect(await status(gw, 'key1')).toBe(401);
    expect(await status(gw, undefined)).toBe(401);
  });

  it('all sources at once: every one of them is valid', async () => {
    const gw = await start({
      env: { API_KEYS: 'from-env' },
      files: {
        [KEYS_FILE]: 'from-file\n',
        'config.yml': 'access_key: from-access-key\napi_keys: [from-api-keys]\n',
      },
    });
    for (const key of ['from-env', 'from-file', 'from-access-key', 'from-api-keys']) {
      expect(await status(gw, key)).toBe(200);
    }
  });
});

describe('open mode and exposure', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('with no client key on loopback: runs open and warns loudly at start', async () => {
    gw = await startTestGateway({ noDefaultKey: true });
    expect(await status(gw, undefined)).toBe(200);
    expect(await status(gw, 'anything')).toBe(200);
    const warnings = gw.processLog
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((entry) => entry.level === 'warning');
    expect(warnings.some((entry) => /no client key/i.test(entry.msg) && /open/i.test(entry.msg))).toBe(true);
  });

  it('refuses to start on a non-loopback host (HOST env) with no client key, saying how to fix it', async () => {
    const dir = makeTempDir();
    try {
      const attempt = startGateway({
        cwd: dir,
        env: { HOST: '0.0.0.0', LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'none' },
        flags: { port: 0 },
        logDestination: { write: () => undefined },
      });
      await expect(attempt).rejects.toBeInstanceOf(StartupError);
      const error = (await attempt.catch((e: unknown) => e)) as Error;
      expect(error.message).toContain('0.0.0.0');
      expect(error.message).toMatch(/API_KEYS/);
      expect(error.message).toMatch(/generate-key/);
      expect(error.message).toMatch(/127\.0\.0\.1|loopback/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checkExposure: refuses 0.0.0.0, :: and a LAN address from config.yml; allows them with a key', () => {
    const dir = makeTempDir();
    try {
      for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
        writeFileSync(join(dir, 'config.yml'), `host: "${host}"\n`);
        const open = loadConfig({ cwd: dir, env: {} });
        expect(() => checkExposure(open), host).toThrow(StartupError);
        const keyed = loadConfig({ cwd: dir, env: { API_KEYS: 'k' } });
        expect(() => checkExposure(keyed), host).not.toThrow();
      }
      for (const host of ['127.0.0.1', '::1', 'localhost']) {
        writeFileSync(join(dir, 'config.yml'), `host: "${host}"\n`);
        expect(() => checkExposure(loadConfig({ cwd: dir, env: {} })), host).not.toThrow();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('isLoopbackHost knows loopback from the rest', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '', '127.0.0.1.nip.io']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('reloading client keys without a restart', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream?.close();
  });
  afterEach(async () => {
    await gw?.stop();
  });

  it('a key appended to the keys file works after reload()', async () => {
    gw = await startTestGateway({ noDefaultKey: true, files: { [KEYS_FILE]: 'fwd_before_reload\n' } });
    expect(await status(gw, 'fwd_before_reload')).toBe(200);
    appendFileSync(join(gw.dir, KEYS_FILE), 'fwd_after_reload\n');
    expect(await status(gw, 'fwd_after_reload')).toBe(401);
    gw.gateway.reload();
    expect(await status(gw, 'fwd_after_reload')).toBe(200);
    expect(await status(gw, 'fwd_before_reload')).toBe(200);
  });

  it('a request in flight during the reload completes, even when its key is removed', async () => {
    gw = await startTestGateway({
      noDefaultKey: true,
      env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${upstream.url}/v1` },
      files: { [KEYS_FILE]: 'fwd_old_key\n' },
    });
    upstream.enqueue({ kind: 'chat', content: 'slow answer', delayMs: 600 });
    const inFlight = gw
      .client('fwd_old_key')
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await upstream.waitForRequests(1);
    writeFiles(gw.dir, { [KEYS_FILE]: '# rotated\nfwd_new_key\n' });
    gw.gateway.reload();
    expect(await status(gw, 'fwd_new_key')).toBe(200);
    expect(await status(gw, 'fwd_old_key')).toBe(401);
    const completion = await inFlight;
    expect(completion.choices[0]?.message.content).toBe('slow answer');
    const records = await gw.requestLog();
    const chat = records.find((r) => r.endpoint === '/v1/chat/completions');
    expect(chat?.status).toBe(200);
  });
});
