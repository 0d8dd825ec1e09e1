// No configured secret (provider keys, client keys, the catalog token) reaches a client, the
// request log, the log store or the process log, however an upstream echoes it: in any error field
// at any depth, JSON-escaped, in a plain-text error body, or in an error event inside a stream, even
// one split across two network reads. Each protocol's own error shape is covered.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerKeyId } from '../../src/config/build-providers.js';
import { ingest } from '../../src/logstore/ingest.js';
import { CatalogServer } from '../support/emulator/catalog-server.js';
import type { RecordedRequest } from '../support/emulator/types.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const OPENAI_KEY = 'sk-redact-openai-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-redact-anthropic-0123456789';
const GEMINI_KEY = 'AIza-redact-gemini-0123456789/ab+c';
const COHERE_KEY = 'co-redact-cohere-0123456789';
const TOKEN = 'catalog-redact-token-0123456789';
const SECOND_CLIENT = 'second-client-redact-0123456789';
const SECRETS = [OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, COHERE_KEY, TOKEN, CLIENT_KEY, SECOND_CLIENT];
const HI = [{ role: 'user', content: 'Hi' }];

/** The key a request carried, as the provider would see it. */
function sentKey(req: RecordedRequest): string {
  const bearer = /^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '');
  return bearer?.[1] ?? req.headers['x-api-key'] ?? req.headers['x-goog-api-key'] ?? '';
}

/** Every configured secret an upstream could have learnt (its key; a client's key pasted in a prompt). */
function echoed(key: string): string {
  return `${key} ${CLIENT_KEY} ${SECOND_CLIENT} ${TOKEN}`;
}

type Protocol = 'openai' | 'anthropic' | 'gemini' | 'cohere';

/** Each protocol's error shape, with the key in every field and nested ones. */
function errorBody(protocol: Protocol, status: number, key: string): unknown {
  const all = echoed(key);
  switch (protocol) {
    case 'openai':
      return {
        error: {
          message: `Incorrect API key provided: ${all}`,
          type: key,
          code: key,
          param: key,
          nested: { deeper: [{ value: key }], [key]: 'as a field name' },
        },
      };
    case 'anthropic':
      return { type: 'error', error: { type: key, message: `invalid x-api-key ${all}`, details: { key } } };
    case 'gemini':
      return {
        error: {
          code: status,
          message: `API key not valid: ${all}`,
          status: key,
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', metadata: { key } }],
        },
      };
    case 'cohere':
      return { id: key, message: `invalid api token ${all}`, data: { token: key } };
  }
}

const MODELS: Record<Protocol | 'catalog', { model: string; protocol: Protocol }> = {
  openai: { model: 'gpt-4o-mini', protocol: 'openai' },
  anthropic: { model: 'anthropic:claude-3-5-haiku-latest', protocol: 'anthropic' },
  gemini: { model: 'gemini:gemini-1.5-flash', protocol: 'gemini' },
  cohere: { model: 'cohere:command-r', protocol: 'cohere' },
  catalog: { model: 'catalog-gpt', protocol: 'openai' },
};

/** Every file under a folder, as bytes (the SQLite partitions and their WAL). */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [readFileSync(path)];
  });
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
}

describe('no secret in any answer, log or store', () => {
  let upstream: ProviderEmulator;
  let catalog: CatalogServer;
  let gw: TestGateway;
  /** Every byte a client got, checked at the end beside the logs. */
  const answers: string[] = [];

  async function call(body: Record<string, unknown>, path = '/v1/chat/completions') {
    const response = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    answers.push(text);
    return { status: response.status, text };
  }

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    catalog = await CatalogServer.start({
      upstream: upstream.url,
      token: TOKEN,
      models: [
        {
          model_version: 'catalog-gpt',
          model_family: 'gpt-4',
          handle: '/openai/v1/chat/completions',
          prompt_price_1k: 0.001,
          completion_price_1k: 0.002,
        },
      ],
    });
    gw = await startTestGateway({
      env: {
        API_KEYS: `${CLIENT_KEY},${SECOND_CLIENT}`,
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        ANTHROPIC_API_KEY: ANTHROPIC_KEY,
        ANTHROPIC_BASE_URL: `${upstream.url}/v1`,
        GEMINI_API_KEY: GEMINI_KEY,
        GEMINI_BASE_URL: `${upstream.url}/v1beta`,
        COHERE_API_KEY: COHERE_KEY,
        COHERE_BASE_URL: upstream.url,
        MODEL_LIST_URL: catalog.listUrl,
        MODEL_LIST_AUTH_TOKEN: TOKEN,
        RETRY_MAX_ATTEMPTS: '1',
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await catalog?.close();
    await upstream?.close();
  });

  for (const [name, { model, protocol }] of Object.entries(MODELS)) {
    for (const status of [400, 401, 503]) {
      it(`${name}: a ${status} that echoes the key in every field`, async () => {
        upstream.onRequest((req) => ({
          kind: 'error',
          status,
          body: errorBody(protocol, status, sentKey(req)),
        }));
        const { status: got, text } = await call({ model, messages: HI });
        expect(got).toBe(status === 503 ? 502 : status);
        expectNoSecret('the answer', text);
        // The upstream did see and echo the key: what the client got names it by its id instead.
        const key = sentKey(upstream.requests[upstream.requests.length - 1]!);
        expect(key).not.toBe('');
        if (name !== 'catalog') expect(text).toContain(`[key ${providerKeyId(name, key)}]`);
        else expect(text).toContain('[catalog token]');
        expect(text).toMatch(/\[client key [0-9a-f]{16}\]/);
      });
    }
  }

  it('a key behind JSON escapes (\\u and \\/) in an error body', async () => {
    const escaped = [...GEMINI_KEY]
      .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join('');
    upstream.onRequest(() => ({
      kind: 'raw',
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: `{"error":{"code":400,"message":"bad key ${escaped}","status":"${GEMINI_KEY.replaceAll('/', '\\/')}"}}`,
    }));
    const { status, text } = await call({ model: MODELS.gemini.model, messages: HI });
    expect(status).toBe(400);
    expectNoSecret('the answer', text);
    expect(text).toContain(`[key ${providerKeyId('gemini', GEMINI_KEY)}]`);
  });

  it('a plain-text error body', async () => {
    upstream.onRequest((req) => ({
      kind: 'error',
      status: 403,
      body: `forbidden for ${echoed(sentKey(req))}`,
    }));
    const { status, text } = await call({ model: MODELS.openai.model, messages: HI });
    expect(status).toBe(403);
    expectNoSecret('the answer', text);
  });

  it('an embeddings error (a Fastify route) that echoes the key', async () => {
    upstream.onRequest((req) => ({
      kind: 'error',
      status: 400,
      body: errorBody('openai', 400, sentKey(req)),
    }));
    const { status, text } = await call({ model: 'text-embedding-3-small', input: 'x' }, '/v1/embeddings');
    expect(status).toBe(400);
    expectNoSecret('the answer', text);
  });

  const CHUNK =
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n';
  const SSE = { 'content-type': 'text/event-stream' };

  it('an error event in a relayed stream, the key split across two reads', async () => {
    const event = `data: {"error":{"message":"key ${echoed(OPENAI_KEY)}","type":"${OPENAI_KEY}","code":"${OPENAI_KEY}"}}\n\n`;
    const cut = event.indexOf(OPENAI_KEY) + 7;
    upstream.onRequest(() => ({
      kind: 'raw',
      status: 200,
      headers: SSE,
      body: CHUNK,
      chunks: [event.slice(0, cut), event.slice(cut)],
    }));
    const { status, text } = await call({ model: MODELS.openai.model, messages: HI, stream: true });
    expect(status).toBe(200);
    expect(text).toContain('"content":"Hi"');
    expectNoSecret('the stream', text);
    expect(text).toContain(`[key ${providerKeyId('openai', OPENAI_KEY)}]`);
  });

  it('an error event whose "error" mark itself is split across two reads', async () => {
    const event = `data: {"error":{"message":"${echoed(OPENAI_KEY)}","type":"server_error","code":null}}\n\n`;
    const cut = event.indexOf('"error"') + 4;
    upstream.onRequest(() => ({
      kind: 'raw',
      status: 200,
      headers: SSE,
      body: CHUNK,
      chunks: [event.slice(0, cut), event.slice(cut)],
    }));
    const { text } = await call({ model: MODELS.openai.model, messages: HI, stream: true });
    expectNoSecret('the stream', text);
  });

  it("Anthropic's and Gemini's stream error events", async () => {
    upstream.onRequest(() => ({
      kind: 'raw',
      status: 200,
      headers: SSE,
      body: `event: error\ndata: {"type":"error","error":{"type":"${ANTHROPIC_KEY}","message":"overloaded ${echoed(ANTHROPIC_KEY)}"}}\n\n`,
    }));
    const anthropic = await call({ model: MODELS.anthropic.model, messages: HI, stream: true });
    expectNoSecret('the Anthropic stream', anthropic.text);
    expect(anthropic.text).toContain('"error"');

    upstream.onRequest(() => ({
      kind: 'raw',
      status: 200,
      headers: SSE,
      body: `data: {"error":{"code":500,"message":"internal ${echoed(GEMINI_KEY)}","status":"${GEMINI_KEY}"}}\n\n`,
    }));
    const gemini = await call({ model: MODELS.gemini.model, messages: HI, stream: true });
    expectNoSecret('the Gemini stream', gemini.text);
    expect(gemini.text).toContain('"error"');
  });

  it('leaves no secret in the request log, the log store or the process log', async () => {
    expect(answers.length).toBeGreaterThan(15);
    const records = await gw.requestLog();
    expect(records.length).toBe(answers.length);
    const logDir = gw.gateway.runtime.config.log.dir;
    const jsonl = filesUnder(join(logDir, 'requests'))
      .map((b) => b.toString('utf8'))
      .join('');
    expectNoSecret('the request log', jsonl);
    // The log did keep the errors, with the keys named by their ids.
    expect(jsonl).toContain(`[key ${providerKeyId('anthropic', ANTHROPIC_KEY)}]`);
    expect(jsonl).toContain(`[key ${providerKeyId('openai', OPENAI_KEY)}]`);

    const dbRoot = join(logDir, 'db');
    const result = await ingest({ from: logDir, dbRoot, granularity: 'daily', fts: true });
    expect(result.inserted).toBe(records.length);
    const store = filesUnder(dbRoot)
      .map((b) => b.toString('latin1'))
      .join('');
    expect(store).toContain(`[key ${providerKeyId('openai', OPENAI_KEY)}]`);
    expectNoSecret('the log store', store);

    expect(gw.processLog.length).toBeGreaterThan(0);
    expectNoSecret('the process log', gw.processLog.join(''));
  });
});
