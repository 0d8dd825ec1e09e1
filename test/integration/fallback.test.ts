// Fallback (SPEC §4): on a retryable failure another key of the same provider, a bounded retry,
// then the next target; non-retryable answers go straight back; a stream falls back only before its
// first byte; every attempt is recorded. Two emulators, one per provider, show who got what.
import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerKeyId } from '../../src/config/build-providers.js';
import { failureOf } from '../support/api-error.js';
import { ProviderEmulator, type RecordedRequest } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const OPENAI_KEY = 'sk-fallback-openai-secret-0001';
const GROQ_KEY = 'sk-fallback-groq-secret-0002';
const HI = [{ role: 'user' as const, content: 'Hi' }];
const CONFIG = `model_mappings:
  fast: ["openai:gpt-4o-mini", "groq:llama3-8b-8192"]
  dead-first: ["openrouter:some/model", "groq:llama3-8b-8192"]
`;

interface Attempt {
  provider: string;
  model: string;
  key_id: string;
  status: number | null;
  outcome: string;
  duration_ms: number;
}

function authOf(request: RecordedRequest | undefined): string | undefined {
  return request?.headers.authorization;
}

describe('fallback', () => {
  let openai: ProviderEmulator;
  let groq: ProviderEmulator;
  let deadUrl: string;
  /** Gateways started by a test for its own settings; stopped after it. */
  const extra: TestGateway[] = [];

  function env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      GROQ_API_KEY: GROQ_KEY,
      GROQ_BASE_URL: `${groq.url}/openai/v1`,
      OPENROUTER_API_KEY: 'sk-or-fallback-secret-0003',
      OPENROUTER_BASE_URL: deadUrl,
      RETRY_PER_TARGET: '1',
      RETRY_BACKOFF_MS: '1',
      RETRY_MAX_BACKOFF_MS: '5',
      ...overrides,
    };
  }

  async function gateway(overrides: Record<string, string> = {}): Promise<TestGateway> {
    const gw = await startTestGateway({ env: env(overrides), files: { 'config.yml': CONFIG } });
    extra.push(gw);
    return gw;
  }

  async function recordOf(gw: TestGateway, requestId: string | null | undefined) {
    const record = (await gw.requestLog()).find((r) => r.id === requestId);
    expect(record).toBeDefined();
    return record as Record<string, unknown> & { attempts: Attempt[] };
  }

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    groq = await ProviderEmulator.start();
    // A port nothing listens on: a third emulator, started and closed at once.
    const dead = await ProviderEmulator.start();
    deadUrl = `${dead.url}/api/v1`;
    await dead.close();
  });
  afterAll(async () => {
    await openai?.close();
    await groq?.close();
  });
  beforeEach(() => {
    openai.reset();
    groq.reset();
  });
  afterEach(async () => {
    const gateways = extra.splice(0);
    await Promise.all(gateways.map((gw) => gw.stop()));
    // Whatever failed along the way, no provider key reached the process log.
    for (const line of gateways.flatMap((gw) => gw.processLog)) {
      for (const secret of [OPENAI_KEY, GROQ_KEY, 'sk-pool-k1', 'sk-pool-k2', 'sk-or-fallback-secret-0003']) {
        expect(line).not.toContain(secret);
      }
    }
  });

  it('first target 500: the second answers, and the log has every attempt', async () => {
    const gw = await gateway();
    openai.setDefault({ kind: 'error', status: 500 });
    const { data, response } = await gw
      .client()
      .chat.completions.create({ model: 'fast', messages: HI })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from emulator (model llama3-8b-8192)');
    expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
    expect(response.headers.get('x-ai-proxy-model')).toBe('llama3-8b-8192');
    expect(response.headers.get('x-ai-proxy-key')).toBe(providerKeyId('groq', GROQ_KEY));
    // RETRY_PER_TARGET=1: the first target is tried twice before moving on.
    expect(openai.requests).toHaveLength(2);
    expect(groq.requests).toHaveLength(1);
    expect(groq.requests[0]?.path).toBe('/openai/v1/chat/completions');
    expect(authOf(groq.requests[0])).toBe(`Bearer ${GROQ_KEY}`);

    const record = await recordOf(gw, response.headers.get('x-request-id'));
    expect(record).toMatchObject({
      status: 200,
      model_requested: 'fast',
      model_mapped: 'llama3-8b-8192',
      provider: 'groq',
      key_id: providerKeyId('groq', GROQ_KEY),
    });
    const openaiKeyId = providerKeyId('openai', OPENAI_KEY);
    expect(record.attempts).toEqual([
      expect.objectContaining({
        provider: 'openai',
        model: 'gpt-4o-mini',
        key_id: openaiKeyId,
        status: 500,
        outcome: 'status',
      }),
      expect.objectContaining({
        provider: 'openai',
        model: 'gpt-4o-mini',
        key_id: openaiKeyId,
        status: 500,
        outcome: 'status',
      }),
      expect.objectContaining({
        provider: 'groq',
        model: 'llama3-8b-8192',
        key_id: providerKeyId('groq', GROQ_KEY),
        status: 200,
        outcome: 'ok',
      }),
    ]);
    expect(JSON.stringify(record)).not.toContain(OPENAI_KEY);
  });

  it('429 on key 1 of two: key 2 answers, and the cooled key 1 is not used next', async () => {
    const gw = await gateway({ OPENAI_API_KEY: 'sk-pool-k1,sk-pool-k2' });
    openai.onRequest((req) =>
      authOf(req) === 'Bearer sk-pool-k1'
        ? { kind: 'error', status: 429, headers: { 'retry-after': '30' } }
        : undefined,
    );
    const first = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: HI })
      .withResponse();
    expect(first.response.headers.get('x-ai-proxy-key')).toBe(providerKeyId('openai', 'sk-pool-k2'));
    expect(openai.requests.map(authOf)).toEqual(['Bearer sk-pool-k1', 'Bearer sk-pool-k2']);

    for (let i = 0; i < 3; i++) {
      const next = await gw
        .client()
        .chat.completions.create({ model: 'gpt-4o-mini', messages: HI })
        .withResponse();
      expect(next.response.headers.get('x-ai-proxy-key')).toBe(providerKeyId('openai', 'sk-pool-k2'));
    }
    expect(openai.requests.slice(2).map(authOf)).toEqual([
      'Bearer sk-pool-k2',
      'Bearer sk-pool-k2',
      'Bearer sk-pool-k2',
    ]);
    expect(groq.requests).toHaveLength(0);
  });

  it('401 on key 1 of two: key 2 answers', async () => {
    const gw = await gateway({ OPENAI_API_KEY: 'sk-pool-k1,sk-pool-k2' });
    openai.onRequest((req) =>
      authOf(req) === 'Bearer sk-pool-k1' ? { kind: 'error', status: 401 } : undefined,
    );
    const { response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: HI })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-key')).toBe(providerKeyId('openai', 'sk-pool-k2'));
    expect(openai.requests.map(authOf)).toEqual(['Bearer sk-pool-k1', 'Bearer sk-pool-k2']);
  });

  it('429 on the only key of the first target: the next target answers, and the next call skips the cooled one', async () => {
    const gw = await gateway();
    openai.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '30' } });
    const { response } = await gw
      .client()
      .chat.completions.create({ model: 'fast', messages: HI })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
    // A rate limit is not retried on the same key.
    expect(openai.requests).toHaveLength(1);
    const again = await gw.client().chat.completions.create({ model: 'fast', messages: HI }).withResponse();
    expect(again.response.headers.get('x-ai-proxy-provider')).toBe('groq');
    expect(openai.requests).toHaveLength(1);
    expect(groq.requests).toHaveLength(2);
  });

  it('a non-stream answer cut mid-body: nothing reached the client, so the next target answers', async () => {
    const gw = await gateway({ RETRY_PER_TARGET: '0' });
    openai.enqueue({ kind: 'cut-stream', afterChunks: 1 });
    const { data, response } = await gw
      .client()
      .chat.completions.create({ model: 'fast', messages: HI })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
    expect(data.choices[0]?.message.content).toBe('Hello from emulator (model llama3-8b-8192)');
    const record = await recordOf(gw, response.headers.get('x-request-id'));
    expect(record.attempts.map((a) => [a.provider, a.outcome])).toEqual([
      ['openai', 'stream'],
      ['groq', 'ok'],
    ]);
  });

  it('a connect error on the first provider: the second answers', async () => {
    const gw = await gateway();
    const { data, response } = await gw
      .client()
      .chat.completions.create({ model: 'dead-first', messages: HI })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from emulator (model llama3-8b-8192)');
    expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
    const record = await recordOf(gw, response.headers.get('x-request-id'));
    expect(record.attempts.map((a) => [a.provider, a.status, a.outcome])).toEqual([
      ['openrouter', null, 'connect'],
      ['openrouter', null, 'connect'],
      ['groq', 200, 'ok'],
    ]);
    expect(record.provider).toBe('groq');
  });

  for (const [name, behaviour] of [
    ['resets the connection', { kind: 'reset' }],
    ['sends headers, then cuts before any data', { kind: 'cut-stream', afterChunks: 0 }],
  ] as const) {
    it(`stream: the first provider ${name} before the first byte: falls back, the stream completes`, async () => {
      const gw = await gateway();
      openai.setDefault(behaviour);
      const { data: stream, response } = await gw
        .client()
        .chat.completions.create({ model: 'fast', messages: HI, stream: true })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
      let text = '';
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(text).toBe('Hello from emulator (model llama3-8b-8192)');
      expect(finish).toBe('stop');
      expect(openai.requests).toHaveLength(2);
      expect(groq.requests).toHaveLength(1);
      const record = await recordOf(gw, response.headers.get('x-request-id'));
      expect(record).toMatchObject({ status: 200, stream: true, provider: 'groq', error: null });
      expect(record.attempts.map((a) => a.outcome)).toEqual([
        expect.stringMatching(/^(connect|stream)$/),
        expect.stringMatching(/^(connect|stream)$/),
        'ok',
      ]);
    });
  }

  it('stream: a cut after the first chunk does not fall back; an error event ends it', async () => {
    const gw = await gateway();
    openai.enqueue({ kind: 'cut-stream', afterChunks: 2 });
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({ model: 'fast', messages: HI, stream: true })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    let text = '';
    let caught: unknown;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    } catch (error) {
      caught = error;
    }
    expect(text).toBe('Hello');
    expect(caught).toBeInstanceOf(APIError);
    expect((caught as APIError).message).toMatch(/openai: the stream broke off/);
    expect(openai.requests).toHaveLength(1);
    expect(groq.requests).toHaveLength(0);
  });

  it('a non-retryable 400 goes straight back without touching the second provider', async () => {
    const gw = await gateway();
    openai.enqueue({
      kind: 'error',
      status: 400,
      body: { error: { message: 'bad tools', type: 'invalid_request_error', param: 'tools', code: null } },
    });
    const error = await failureOf(gw.client().chat.completions.create({ model: 'fast', messages: HI }));
    expect(error.status).toBe(400);
    expect(error.error).toEqual({
      message: 'bad tools',
      type: 'invalid_request_error',
      param: 'tools',
      code: null,
    });
    expect(error.headers?.get('x-ai-proxy-provider')).toBe('openai');
    expect(openai.requests).toHaveLength(1);
    expect(groq.requests).toHaveLength(0);
  });

  it('retries are bounded by RETRY_MAX_ATTEMPTS across the whole chain', async () => {
    const gw = await gateway({ RETRY_MAX_ATTEMPTS: '3' });
    openai.setDefault({ kind: 'error', status: 503 });
    groq.setDefault({ kind: 'error', status: 502 });
    const error = await failureOf(gw.client().chat.completions.create({ model: 'fast', messages: HI }));
    expect(error.status).toBe(502);
    expect(error.error).toMatchObject({ type: 'api_error', code: 'upstream_error' });
    expect((error.error as { message: string }).message).toMatch(/after 3 attempts/);
    expect(openai.requests.length + groq.requests.length).toBe(3);
    expect(openai.requests).toHaveLength(2);
    expect(groq.requests).toHaveLength(1);
    const record = await recordOf(gw, error.requestID);
    expect(record.attempts).toHaveLength(3);
    expect(record.status).toBe(502);
  });

  it('RETRY_PER_TARGET retries the same single-key target with backoff before moving on', async () => {
    const gw = await gateway({ RETRY_PER_TARGET: '2', RETRY_BACKOFF_MS: '40', RETRY_MAX_BACKOFF_MS: '1000' });
    openai.setDefault({ kind: 'error', status: 500 });
    const { response } = await gw
      .client()
      .chat.completions.create({ model: 'fast', messages: HI })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
    expect(openai.requests).toHaveLength(3);
    expect(openai.requests.map(authOf)).toEqual(Array(3).fill(`Bearer ${OPENAI_KEY}`));
    const [a, b, c] = openai.requests.map((r) => r.receivedAt);
    // Exponential with jitter: the n-th retry waits between half and all of 40·2ⁿ ms.
    expect(b! - a!).toBeGreaterThanOrEqual(20 - 5);
    expect(c! - b!).toBeGreaterThanOrEqual(40 - 5);
    expect(groq.requests).toHaveLength(1);
  });

  it('`models: [...]` in the body acts as a fallback chain', async () => {
    const gw = await gateway();
    openai.setDefault({ kind: 'error', status: 500 });
    const { data, response } = await gw
      .client()
      .chat.completions.create({ models: ['gpt-4o-mini', 'groq:llama3'], messages: HI } as never)
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
    expect((data as { model: string }).model).toBe('llama3');
    expect(openai.requests[0]?.body).toMatchObject({ model: 'gpt-4o-mini' });
    // The gateway's own field never reaches a provider.
    expect(openai.requests[0]?.body).not.toHaveProperty('models');
    expect(groq.requests[0]?.body).toEqual({ model: 'llama3', messages: HI });
  });

  it('`model` plus `models`: the model first, then the list', async () => {
    const gw = await gateway();
    groq.setDefault({ kind: 'error', status: 503 });
    const { response } = await gw
      .client()
      .chat.completions.create({ model: 'groq:llama3', models: ['gpt-4o-mini'], messages: HI } as never)
      .withResponse();
    expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
    expect(groq.requests).toHaveLength(2);
    expect(openai.requests[0]?.body).toEqual({ model: 'gpt-4o-mini', messages: HI });
  });

  describe('no model: the PROVIDERS_PRIORITY chain', () => {
    const priority = {
      PROVIDERS_PRIORITY: 'groq,openai',
      GROQ_MODEL: 'groq:llama3-8b-8192',
      OPENAI_MODEL: 'gpt-4o-mini',
    };

    it('the first provider answers', async () => {
      const gw = await gateway(priority);
      const { data, response } = await gw
        .client()
        .chat.completions.create({ messages: HI } as never)
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
      expect((data as { model: string }).model).toBe('llama3-8b-8192');
      expect(groq.requests[0]?.body).toEqual({ model: 'llama3-8b-8192', messages: HI });
      expect(openai.requests).toHaveLength(0);
    });

    it('the next provider answers when the first fails', async () => {
      const gw = await gateway(priority);
      groq.setDefault({ kind: 'error', status: 503 });
      const { response } = await gw
        .client()
        .chat.completions.create({ messages: HI } as never)
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
      expect(response.headers.get('x-ai-proxy-model')).toBe('gpt-4o-mini');
      expect(openai.requests[0]?.body).toEqual({ model: 'gpt-4o-mini', messages: HI });
      const record = await recordOf(gw, response.headers.get('x-request-id'));
      expect(record.model_requested).toBeNull();
      expect(record.provider).toBe('openai');
      expect(record.attempts.map((a) => `${a.provider}/${a.model}:${a.outcome}`)).toEqual([
        'groq/llama3-8b-8192:status',
        'groq/llama3-8b-8192:status',
        'openai/gpt-4o-mini:ok',
      ]);
    });
  });
});
