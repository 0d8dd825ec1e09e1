// Authentication and routing decide on one path. Requests are written as raw request lines over a
// socket (no client library normalizes them first), as an attacker would send them: percent-encoded
// letters and slashes, dot segments, doubled slashes, absolute form, trailing slashes, case. Without
// a key none of them may be served or reach the upstream; with one, a spelling that means the same
// path is served as that path.
import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canonicalTarget } from '../../src/server/canonical-path.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const UPSTREAM_KEY = 'sk-path-auth-upstream-0001';

interface RawAnswer {
  status: number;
  body: string;
}

/** One request as raw bytes on a fresh connection; the answer read until the server closes. */
function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: string[],
  body = '',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${target}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (match?.[1] === undefined)
        return reject(new Error(`no status line for ${target}: ${text.slice(0, 80)}`));
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      const raw = text.slice(split + 4);
      resolve({
        status: Number(match[1]),
        body: /transfer-encoding: chunked/i.test(head) ? unchunk(raw) : raw,
      });
    });
    const lines = [
      `${method} ${target} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: close',
      ...headers,
      ...(body === ''
        ? []
        : ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`]),
    ];
    // Written, not ended: a half-closed socket could be taken for a client that went away.
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

/** A chunked body, joined. */
function unchunk(raw: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

interface Route {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

const ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/v1/chat/completions',
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
  },
  {
    method: 'POST',
    path: '/v1/chat/completions',
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    body: JSON.stringify({ model: 'text-embedding-3-small', input: 'Hi' }),
  },
  {
    method: 'POST',
    path: '/v1/images/generations',
    body: JSON.stringify({ model: 'dall-e-3', prompt: 'a cat' }),
  },
  { method: 'GET', path: '/v1/models' },
  { method: 'GET', path: '/v1/models/gpt-4o-mini' },
  { method: 'GET', path: '/v1/usage' },
];

/** `/v1/a/b` → the first segment's letters percent-encoded, e.g. `/%761/a/b`. */
function encodeLetters(segment: string, all = false): string {
  return [...segment]
    .map((ch, i) => (all || i === 0 ? `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch))
    .join('');
}

/** Spellings of a path that mean the same path once normalized. */
function equivalentSpellings(path: string): string[] {
  const rest = path.slice('/v1'.length);
  const last = path.slice(path.lastIndexOf('/') + 1);
  const head = path.slice(0, path.lastIndexOf('/') + 1);
  return [
    `/${encodeLetters('v1')}${rest}`,
    `/${encodeLetters('v1', true)}${rest}`,
    `/${encodeLetters('V1', true).toUpperCase()}${rest}`.replace('%56', '%76'),
    `${head}${encodeLetters(last, true)}`,
    `http://x${path}`,
    `HTTP://example.com:8123${path}`,
    `http://x/${encodeLetters('v1')}${rest}`,
  ];
}

/** Spellings that are not in canonical form and must be refused (or never served). */
function nonCanonicalSpellings(path: string): string[] {
  const rest = path.slice('/v1'.length);
  return [
    `/v1%2F${rest.slice(1)}`,
    `/v1%2f${rest.slice(1)}`,
    `/%2Fv1${rest}`,
    `/v1/.${rest}`,
    `/v1/%2E${rest}`,
    `/x/..${path}`,
    `/x/%2e%2e${path}`,
    `${path}/.`,
    `${path}/..`,
    `/v1/x/..${rest}`,
    `//v1${rest}`,
    `/v1/${rest}`,
    `${path}//`,
    `${path}/`,
    `/V1${rest}`,
    path.toUpperCase(),
    `/v1\\${rest.slice(1)}`,
    `/v1%5C${rest.slice(1)}`,
    `/%zz/v1${rest}`,
    `/v1/%7${rest}`,
    `*`,
    `x${path}`,
  ];
}

describe('authentication and routing decide on the same path', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let port: number;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${upstream.url}/v1` },
    });
    port = Number(new URL(gw.url).port);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('the canonical spelling itself needs a key on every /v1 route', async () => {
    for (const route of ROUTES) {
      const answer = await rawRequest(port, route.method, route.path, [], route.body);
      expect(answer.status, `${route.method} ${route.path}`).toBe(401);
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('no spelling of a /v1 route is served without a key, and none reaches the upstream', async () => {
    for (const route of ROUTES) {
      for (const target of [...equivalentSpellings(route.path), ...nonCanonicalSpellings(route.path)]) {
        const answer = await rawRequest(port, route.method, target, [], route.body);
        expect([400, 401, 404], `${route.method} ${target} → ${answer.status} ${answer.body}`).toContain(
          answer.status,
        );
        expect(answer.body, `${route.method} ${target}`).not.toContain(UPSTREAM_KEY);
      }
    }
    expect(upstream.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('a spelling that means a /v1 route is that route: 401 without a key', async () => {
    for (const route of ROUTES) {
      for (const target of equivalentSpellings(route.path)) {
        const answer = await rawRequest(port, route.method, target, [], route.body);
        expect(answer.status, `${route.method} ${target}`).toBe(401);
        expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_api_key' } });
      }
    }
  });

  it('dot segments, doubled slashes, encoded separators and malformed escapes are refused with a 400', async () => {
    for (const route of ROUTES) {
      for (const target of [
        `/v1/.${route.path.slice(3)}`,
        `/x/..${route.path}`,
        `/x/%2e%2e${route.path}`,
        `//v1${route.path.slice(3)}`,
        `/v1/${route.path.slice(3)}`,
        `/v1\\${route.path.slice(4)}`,
        `/%zz${route.path}`,
        '*',
      ]) {
        const answer = await rawRequest(
          port,
          route.method,
          target,
          [`Authorization: Bearer ${CLIENT_KEY}`],
          route.body,
        );
        expect(answer.status, `${route.method} ${target}`).toBe(400);
        expect(JSON.parse(answer.body)).toMatchObject({
          error: {
            type: 'invalid_request_error',
            code: 'invalid_request',
            message: expect.stringMatching(/canonical/),
          },
        });
      }
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('with a key, an equivalent spelling is served as the canonical path', async () => {
    const usage = await rawRequest(port, 'GET', '/%76%31/usage', [`Authorization: Bearer ${CLIENT_KEY}`]);
    expect(usage.status).toBe(200);
    const chat = ROUTES[0] as Route;
    const answer = await rawRequest(
      port,
      'POST',
      `http://x/${encodeLetters('v1')}/chat/completions`,
      [`Authorization: Bearer ${CLIENT_KEY}`],
      chat.body,
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ object: 'chat.completion' });
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('canonicalTarget', () => {
  it('leaves canonical targets as they are, query included', () => {
    for (const target of [
      '/v1/chat/completions',
      '/v1/models/openai%2Fgpt-4',
      '/v1/usage?x=%2F..//',
      '/',
      '/v1/usage/',
    ]) {
      expect(canonicalTarget(target)).toBe(target);
    }
  });
  it('decodes only unreserved escapes', () => {
    expect(canonicalTarget('/%76%31/models/gpt%2D4%2Fx')).toBe('/v1/models/gpt-4%2Fx');
    expect(canonicalTarget('http://h:1?q')).toBe('/?q');
  });
  it('refuses what is not canonical', () => {
    for (const target of [
      '/v1/../x',
      '/v1/%2E%2E/x',
      '//v1',
      '/v1//x',
      '/v1/%',
      '/v1/%g0',
      'ftp://x/v1',
      '*',
      '/a\\b',
    ]) {
      expect(canonicalTarget(target), target).toBeUndefined();
    }
  });
});
