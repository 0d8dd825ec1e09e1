// The admin key API on the real Fastify app (buildApp: its body parser, error handler and docs) on
// a real port, called over HTTP: only an admin key gets in (401 without a key or with an unknown
// one, 403 for a client key, configured or managed, before the body is even read), create answers
// the key once, list/show never do, bodies are validated with a 400 naming the field, PATCH null
// removes a limit, DELETE revokes, rotate swaps the key and refuses a revoked one, unknown ids are
// 404, and every route is in /openapi.json under "Admin".
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createProcessLogger } from '../../src/logs/process-logger.js';
import { keyHash } from '../../src/managed-keys/key-format.js';
import type { KeyStore } from '../../src/managed-keys/key-store.js';
import { SqliteKeyStore } from '../../src/managed-keys/key-store-sqlite.js';
import { buildApp } from '../../src/server/app.js';
import { type AdminKeysHost, registerAdminKeyRoutes } from '../../src/server/routes/admin-keys.js';
import { Runtime } from '../../src/server/runtime.js';
import { makeTempDir } from '../support/gateway.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const CLIENT = 'client-key-for-tests-0123456789';

let dir: string;
let runtime: Runtime;
let app: FastifyInstance;
let store: KeyStore;
let url: string;
let ownStore: KeyStore | undefined;

beforeAll(async () => {
  dir = makeTempDir('ai-proxy-admin-keys-');
  const config = loadConfig({
    cwd: dir,
    env: {
      LOG_DIR: join(dir, 'logs'),
      API_KEYS: CLIENT,
      ADMIN_KEYS: ADMIN,
      KEYS_DB_PATH: join(dir, 'keys.sqlite3'),
      OPENAI_API_KEY: 'sk-test',
    },
    flags: { host: '127.0.0.1', port: 0 },
  });
  runtime = new Runtime(config, createProcessLogger('none'));
  app = await buildApp(runtime);
  // Until the integrator wires the routes and Runtime.managedKeys, the test wires them itself.
  const wired = (runtime as unknown as Partial<AdminKeysHost>).managedKeys;
  if (wired === undefined) ownStore = new SqliteKeyStore({ path: config.managedKeys.dbPath, pollMs: 50 });
  store = wired ?? (ownStore as KeyStore);
  if (!app.hasRoute({ method: 'GET', url: '/admin/keys' })) {
    registerAdminKeyRoutes(app, {
      get state() {
        return runtime.state;
      },
      managedKeys: store,
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  await app?.close();
  await ownStore?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  options: { key?: string; body?: unknown; header?: 'bearer' | 'x-api-key' } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key !== undefined) {
    if (options.header === 'x-api-key') headers['x-api-key'] = options.key;
    else headers.authorization = `Bearer ${options.key}`;
  }
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url + path, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: response.headers,
  };
}

function admin(method: string, path: string, body?: unknown): Promise<Answer> {
  return call(method, path, { key: ADMIN, body });
}

function errorOf(answer: Answer): { code: unknown; param: unknown; message: string; type: unknown } {
  const error = answer.body.error as Record<string, unknown>;
  return { code: error.code, param: error.param, message: String(error.message), type: error.type };
}

describe('who may call /admin/keys', () => {
  it('no key is a 401, an unknown key a 401, before the body is looked at', async () => {
    const none = await call('POST', '/admin/keys', { body: { bogus: true } });
    expect(none.status).toBe(401);
    expect(errorOf(none).code).toBe('invalid_api_key');
    const unknown = await call('GET', '/admin/keys', { key: 'not-a-key-anyone-has' });
    expect(unknown.status).toBe(401);
  });

  it('a configured client key is a 403, and so is a managed key', async () => {
    for (const path of ['/admin/keys', '/admin/keys/key_000000000000']) {
      const answer = await call('GET', path, { key: CLIENT });
      expect(answer.status).toBe(403);
      expect(errorOf(answer)).toMatchObject({ code: 'admin_key_required', type: 'permission_error' });
    }
    const { key } = await store.create({ name: 'a managed client' });
    await expect.poll(() => store.findByHash(keyHash(key))).toBeDefined();
    const managed = await call('POST', '/admin/keys', { key, body: { name: 'escalation' } });
    expect(managed.status).toBe(403);
    const rotate = await call('POST', '/admin/keys/key_000000000000/rotate', {
      key: CLIENT,
      header: 'x-api-key',
    });
    expect(rotate.status).toBe(403);
  });

  it('an admin key gets in, as a Bearer token or x-api-key', async () => {
    expect((await call('GET', '/admin/keys', { key: ADMIN })).status).toBe(200);
    expect((await call('GET', '/admin/keys', { key: ADMIN, header: 'x-api-key' })).status).toBe(200);
  });
});

describe('managing keys', () => {
  it('creates a key, shown once; list and show carry the record only', async () => {
    const created = await admin('POST', '/admin/keys', {
      name: 'team bot',
      owner: 'team-a',
      expires_at: '30d',
      policy: {
        models: ['gpt-4o*', 'anthropic:*'],
        rpm: 60,
        tpd: 100000,
        budget_day: 2.5,
        budget_total: 100,
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const key = String(created.body.key);
    expect(key).toMatch(/^aip-[A-Za-z0-9]{40}$/);
    expect(created.body).toMatchObject({
      object: 'managed_key',
      name: 'team bot',
      owner: 'team-a',
      status: 'active',
      key_hash: keyHash(key).slice(0, 16),
      policy: {
        models: ['gpt-4o*', 'anthropic:*'],
        rpm: 60,
        tpd: 100000,
        budget_day: 2.5,
        budget_total: 100,
      },
    });
    const expires = Date.parse(String(created.body.expires_at));
    expect(Math.abs(expires - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
    const id = String(created.body.id);
    expect(store.findByHash(keyHash(key))?.id).toBe(id);

    const list = await admin('GET', '/admin/keys');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect((list.body.data as { id: string }[]).map((k) => k.id)).toContain(id);
    const shown = await admin('GET', `/admin/keys/${id}`);
    expect(shown.status).toBe(200);
    // The record as created, without the key, with its usage (the gateway's budget counters).
    const { usage, ...record } = shown.body;
    expect(record).toEqual({ ...created.body, key: undefined, updated_at: shown.body.updated_at });
    expect(usage).toMatchObject({ spent_total: 0, in_flight: { requests: 0 } });
    expect(JSON.stringify(shown.body)).not.toContain(key);
  });

  it('refuses bad bodies with a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', policy: { rpm: 0 } }, 'policy.rpm'],
      [{ name: 'x', policy: { rpm: 1.5 } }, 'policy.rpm'],
      [{ name: 'x', policy: { budget_day: -1 } }, 'policy.budget_day'],
      [{ name: 'x', policy: { models: [] } }, 'policy.models'],
      [{ name: 'x', policy: { models: ['gpt 4'] } }, 'policy.models[0]'],
      [{ name: 'x', expires_at: 'soon' }, 'expires_at'],
      [{ name: 'x', expires_at: '2020-01-01' }, 'expires_at'],
      [{ name: 'x', owner: 5 }, 'owner'],
    ];
    for (const [body, param] of cases) {
      const answer = await admin('POST', '/admin/keys', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(answer).param, JSON.stringify(body)).toBe(param);
      expect(errorOf(answer).code).toBe('invalid_request');
    }
    const unknownField = await admin('POST', '/admin/keys', { name: 'x', policy: { rps: 3 } });
    expect(unknownField.status).toBe(400);
    expect(errorOf(unknownField).message).toContain('rps');
    const notJson = await admin('POST', '/admin/keys', '{"name":');
    expect(notJson.status).toBe(400);
  });

  it('updates: a value sets, null removes, a field left out stays; an empty patch is a 400', async () => {
    const created = await admin('POST', '/admin/keys', { name: 'p', policy: { rpm: 10, tpm: 1000 } });
    const id = String(created.body.id);
    const patched = await admin('PATCH', `/admin/keys/${id}`, {
      name: 'renamed',
      owner: null,
      expires_at: '2099-12-31',
      policy: { rpm: 20, tpm: null, budget_month: 40 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'renamed',
      owner: null,
      expires_at: '2099-12-31T00:00:00.000Z',
      policy: { rpm: 20, budget_month: 40 },
    });
    expect((patched.body.policy as Record<string, unknown>).tpm).toBeUndefined();
    expect((await store.get(id))?.name).toBe('renamed');
    const never = await admin('PATCH', `/admin/keys/${id}`, { expires_at: null });
    expect(never.body.expires_at).toBeNull();
    const empty = await admin('PATCH', `/admin/keys/${id}`, {});
    expect(empty.status).toBe(400);
    const bad = await admin('PATCH', `/admin/keys/${id}`, { policy: { tpd: 'lots' } });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).param).toBe('policy.tpd');
  });

  it('revokes with DELETE, rotates an active key, refuses to rotate a revoked one', async () => {
    const created = await admin('POST', '/admin/keys', { name: 'r', policy: { rpd: 5 } });
    const id = String(created.body.id);
    const oldKey = String(created.body.key);
    const rotated = await admin('POST', `/admin/keys/${id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const newKey = String(rotated.body.key);
    expect(newKey).toMatch(/^aip-/);
    expect(newKey).not.toBe(oldKey);
    expect(rotated.body).toMatchObject({
      id,
      name: 'r',
      policy: { rpd: 5 },
      key_hash: keyHash(newKey).slice(0, 16),
    });
    expect(store.findByHash(keyHash(oldKey))).toBeUndefined();
    expect(store.findByHash(keyHash(newKey))?.id).toBe(id);

    const revoked = await admin('DELETE', `/admin/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect(store.findByHash(keyHash(newKey))?.status).toBe('revoked');
    expect((await admin('DELETE', `/admin/keys/${id}`)).status).toBe(200);
    const again = await admin('POST', `/admin/keys/${id}/rotate`);
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('key_revoked');
  });

  it('answers 404 for an id it does not have', async () => {
    for (const [method, path, body] of [
      ['GET', '/admin/keys/key_000000000000', undefined],
      ['PATCH', '/admin/keys/key_000000000000', { name: 'x' }],
      ['DELETE', '/admin/keys/key_000000000000', undefined],
      ['POST', '/admin/keys/key_000000000000/rotate', undefined],
      ['GET', '/admin/keys/whatever', undefined],
    ] as const) {
      const answer = await admin(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(errorOf(answer).code).toBe('key_not_found');
    }
  });
});

describe('the OpenAPI document', () => {
  it('lists every admin route under the tag Admin, with its body schema', async () => {
    const doc = (await call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { tags?: string[]; requestBody?: unknown }>>;
    };
    const expected: [string, string][] = [
      ['/admin/keys', 'get'],
      ['/admin/keys', 'post'],
      ['/admin/keys/{id}', 'get'],
      ['/admin/keys/{id}', 'patch'],
      ['/admin/keys/{id}', 'delete'],
      ['/admin/keys/{id}/rotate', 'post'],
    ];
    for (const [path, method] of expected) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation?.tags).toEqual(['Admin']);
    }
    expect(JSON.stringify(doc.paths['/admin/keys']?.post?.requestBody)).toContain('budget_month');
  });
});
