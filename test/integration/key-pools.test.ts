// Provider key pools (SPEC §6, seed 003, C003): the seed's config.json verbatim; rotation, a
// rate-limited key skipped, per-minute limits, /v1/usage in the seed's shape, auto-model, streams
// and tools through the pool, token reservations corrected by reported usage, cost.
import { createHash } from 'node:crypto';
import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { providerKeyId } from '../../src/config/build-providers.js';
import { failureOf } from '../support/api-error.js';
import { ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { REDIS_URL, redisForTests, uniquePrefix } from '../support/redis.js';
import { SEED_003_CONFIG } from '../support/seeds.js';

const ACCESS_KEY = 'your-proxy-access-key';
const HI = [{ role: 'user' as const, content: 'Hi' }];
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Get weather information',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string', description: 'City name' } },
      required: ['location'],
    },
  },
};

interface UsageBody {
  day: string;
  mode: string;
  overview: Record<string, { total_requests: number; total_capacity: number; usage_percentage: number }>;
  details: Record<
    string,
    {
      keys: Record<
        string,
        {
          requests: number;
          usage_percentage: number;
          rate_limit_windows: { req_min: number; req_day: number };
          tokens: { prompt: number; completion: number; total: number };
          cost: number;
          cooldown: { reason: string; seconds_left: number } | null;
        }
      >;
      rate_limits: Record<string, number>;
    }
  >;
  clients: Record<string, { requests: number; tokens: number; cost: number }>;
}

async function usageOf(gw: TestGateway, key: string): Promise<UsageBody> {
  await gw.gateway.runtime.requestLog.flush();
  const response = await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as UsageBody;
}

const haveRedis = await redisForTests();
const MODES = haveRedis ? (['memory', 'redis'] as const) : (['memory'] as const);

describe.each(MODES)('C003: seed 003 config.json verbatim (%s mode)', (mode) => {
  let openrouter: ProviderEmulator;
  let gemini: ProviderEmulator;
  let gw: TestGateway;
  const key1 = providerKeyId('openrouter', 'key1');
  const key2 = providerKeyId('openrouter', 'key2');

  beforeAll(async () => {
    openrouter = await ProviderEmulator.start();
    gemini = await ProviderEmulator.start();
  });
  beforeEach(async () => {
    openrouter.reset();
    gemini.reset();
    gw = await startTestGateway({
      noDefaultKey: true,
      files: { 'config.json': SEED_003_CONFIG },
      env: {
        OPENROUTER_BASE_URL: `${openrouter.url}/api/v1`,
        GEMINI_BASE_URL: `${gemini.url}/v1beta`,
        RETRY_BACKOFF_MS: '1',
        ...(mode === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('c003') } : {}),
      },
    });
  });
  afterEach(async () => {
    await gw.stop();
  });
  afterAll(async () => {
    await openrouter.close();
    await gemini.close();
  });

  it('rotates between the two keys and says which answered', async () => {
    const client = gw.client(ACCESS_KEY);
    const used: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { response } = await client.chat.completions
        .create({ model: 'gpt-3.5-turbo:free', messages: HI })
        .withResponse();
      used.push(response.headers.get('x-ai-proxy-key') ?? '');
    }
    expect(used).toEqual([key1, key2, key1, key2]);
    expect(openrouter.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer key1',
      'Bearer key2',
      'Bearer key1',
      'Bearer key2',
    ]);
    expect(openrouter.requests[0]?.body).toMatchObject({ model: 'gpt-3.5-turbo:free' });
  });

  it('skips a key the provider rate-limited: the request moves on, and the key cools down', async () => {
    openrouter.onRequest((req) =>
      req.headers.authorization === 'Bearer key1'
        ? { kind: 'error', status: 429, headers: { 'retry-after': '30' } }
        : undefined,
    );
    const client = gw.client(ACCESS_KEY);
    for (let i = 0; i < 3; i++) {
      const { response } = await client.chat.completions
        .create({ model: 'gpt-3.5-turbo:free', messages: HI })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-key')).toBe(key2);
    }
    // key1 was called once, answered 429, and was not called again.
    expect(openrouter.requests.filter((r) => r.headers.authorization === 'Bearer key1')).toHaveLength(1);
    const usage = await usageOf(gw, ACCESS_KEY);
    const cooled = usage.details.openrouter?.keys[key1]?.cooldown;
    if (cooled == null) throw new Error('key1 should be cooling down');
    expect(cooled.reason).toBe('rate-limited');
    expect(cooled.seconds_left).toBeGreaterThan(20);
    expect(cooled.seconds_left).toBeLessThanOrEqual(30);
  });

  it('holds max_request_min: 15 a key, 30 in all, then 429 with Retry-After', async () => {
    const client = gw.client(ACCESS_KEY);
    for (let i = 0; i < 30; i++) {
      await client.chat.completions.create({ model: 'gpt-3.5-turbo:free', messages: HI });
    }
    const refused = await failureOf(
      client.chat.completions.create({ model: 'gpt-3.5-turbo:free', messages: HI }),
    );
    expect(refused.status).toBe(429);
    expect((refused.error as { code?: string }).code).toBe('rate_limit_exceeded');
    const retryAfter = Number(refused.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(openrouter.requests).toHaveLength(30);
  });

  it('GET /v1/usage has the seed shape, plus tokens, cost and clients', async () => {
    openrouter.setDefault({ kind: 'chat', content: 'ok', usage: { prompt_tokens: 7, completion_tokens: 3 } });
    const client = gw.client(ACCESS_KEY);
    for (let i = 0; i < 3; i++)
      await client.chat.completions.create({ model: 'gpt-3.5-turbo:free', messages: HI });
    const usage = await usageOf(gw, ACCESS_KEY);
    expect(usage.mode).toBe(mode);
    expect(usage.overview.openrouter).toEqual({
      total_requests: 3,
      total_capacity: 3000,
      usage_percentage: 0.1,
      total_tokens: 30,
      total_cost: 0,
    });
    expect(usage.overview.gemini).toMatchObject({
      total_requests: 0,
      total_capacity: 3000,
      usage_percentage: 0,
    });
    const details = usage.details.openrouter!;
    expect(details.rate_limits).toEqual({
      max_request_day: 1500,
      max_token_min: 150000,
      max_request_min: 15,
    });
    expect(Object.keys(details.keys).sort()).toEqual([key1, key2].sort());
    expect(details.keys[key1]).toMatchObject({
      requests: 2,
      usage_percentage: 0.13,
      rate_limit_windows: { req_min: 2, req_day: 2 },
      tokens: { prompt: 14, completion: 6, total: 20 },
    });
    expect(details.keys[key2]).toMatchObject({ requests: 1, rate_limit_windows: { req_min: 1, req_day: 1 } });
    // Keys by id only: nothing of the key itself, and clients by a hash of their key.
    const text = JSON.stringify(usage);
    expect(text).not.toContain('key1"');
    expect(text).not.toContain(ACCESS_KEY);
    const clientHashes = Object.keys(usage.clients);
    expect(clientHashes).toHaveLength(1);
    expect(createHash('sha256').update(ACCESS_KEY).digest('hex').startsWith(clientHashes[0]!)).toBe(true);
    expect(usage.clients[clientHashes[0]!]).toEqual({ requests: 3, tokens: 30, cost: 0 });
  });

  it('/v1/usage needs a client key', async () => {
    const response = await fetch(`${gw.url}/v1/usage`);
    expect(response.status).toBe(401);
  });

  it('auto-model takes the first auto model with headroom, then the next when its keys are spent', async () => {
    const client = gw.client(ACCESS_KEY);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('auto-model');

    const first = await client.chat.completions.create({ model: 'auto-model', messages: HI }).withResponse();
    expect(first.response.headers.get('x-ai-proxy-provider')).toBe('openrouter');
    expect(first.response.headers.get('x-ai-proxy-model')).toBe('gpt-3.5-turbo:free');
    for (let i = 0; i < 29; i++) await client.chat.completions.create({ model: 'auto', messages: HI });
    expect(openrouter.requests).toHaveLength(30);
    // OpenRouter's two keys are at 15 a minute: auto-model moves to gemini-pro.
    const next = await client.chat.completions.create({ model: 'auto-model', messages: HI }).withResponse();
    expect(next.response.headers.get('x-ai-proxy-provider')).toBe('gemini');
    expect(next.response.headers.get('x-ai-proxy-model')).toBe('gemini-pro');
    expect(next.data.choices[0]?.message.content).toBeTruthy();
    expect(gemini.requests[0]?.path).toContain('/models/gemini-pro:generateContent');
    expect(gemini.requests[0]?.headers['x-goog-api-key']).toBe('key1');
  });

  it('streams and tools work through the pool, for OpenRouter and Gemini', async () => {
    for (const emulator of [openrouter, gemini]) {
      emulator.setDefault({
        kind: 'chat',
        toolCalls: [{ name: 'get_weather', arguments: '{"location":"Paris"}' }],
        finishReason: 'tool_calls',
      });
    }
    const client = gw.client(ACCESS_KEY);
    for (const model of ['gpt-3.5-turbo:free', 'gemini-pro']) {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [WEATHER_TOOL],
        stream: true,
      });
      let name = '';
      let args = '';
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        const call = choice?.delta.tool_calls?.[0];
        if (call?.function?.name) name += call.function.name;
        if (call?.function?.arguments) args += call.function.arguments;
        if (choice?.finish_reason) finish = choice.finish_reason;
      }
      expect(name, model).toBe('get_weather');
      expect(JSON.parse(args), model).toEqual({ location: 'Paris' });
      expect(finish, model).toBe('tool_calls');

      const whole = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [WEATHER_TOOL],
      });
      expect(whole.choices[0]?.message.tool_calls?.[0]).toMatchObject({
        type: 'function',
        function: { name: 'get_weather' },
      });
    }
    // Both keys of each provider took their turn.
    expect(new Set(openrouter.requests.map((r) => r.headers.authorization))).toEqual(
      new Set(['Bearer key1', 'Bearer key2']),
    );
    expect(new Set(gemini.requests.map((r) => r.headers['x-goog-api-key']))).toEqual(
      new Set(['key1', 'key2']),
    );
    const usage = await usageOf(gw, ACCESS_KEY);
    expect(usage.overview.gemini?.total_requests).toBe(2);
    expect(usage.overview.openrouter?.total_requests).toBe(2);
  });
});

describe('limits, tokens and cost', () => {
  let upstream: ProviderEmulator;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  beforeEach(() => upstream.reset());
  afterEach(async () => {
    for (const gw of gateways.splice(0)) await gw.stop();
  });
  afterAll(async () => {
    await upstream.close();
  });

  async function gateway(config: string, env: Record<string, string> = {}): Promise<TestGateway> {
    const gw = await startTestGateway({
      files: { 'config.yml': config },
      env: { OPENAI_BASE_URL: `${upstream.url}/v1`, ...env },
    });
    gateways.push(gw);
    return gw;
  }

  it('200 concurrent requests against a key allowing 50 a minute: exactly 50 go through', async () => {
    upstream.setDefault({ kind: 'chat', content: 'ok', delayMs: 20 });
    const gw = await gateway(`providers:
  openai:
    keys:
      - key: sk-limited-0001
        max_request_min: 50
`);
    const client = gw.client();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const limited = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof APIError && r.reason.status === 429,
    ).length;
    expect(ok).toBe(50);
    expect(limited).toBe(150);
    expect(upstream.requests).toHaveLength(50);
  });

  it('max_request_day holds; Retry-After points at the next UTC midnight', async () => {
    const gw = await gateway(`providers:
  openai:
    keys:
      - key: sk-daily-0001
        max_request_day: 2
`);
    const client = gw.client();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
    const refused = await failureOf(client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI }));
    expect(refused.status).toBe(429);
    const now = Date.now();
    const midnight = Math.ceil((Math.floor(now / 86_400_000) + 1) * 86_400 - now / 1000);
    expect(Math.abs(Number(refused.headers?.get('retry-after')) - midnight)).toBeLessThanOrEqual(2);
  });

  it('max_token_min reserves the estimate, then the reported usage corrects it', async () => {
    upstream.setDefault({ kind: 'chat', content: 'ok', usage: { prompt_tokens: 10, completion_tokens: 10 } });
    const gw = await gateway(`providers:
  openai:
    keys:
      - key: sk-tokens-0001
        max_token_min: 1000
`);
    const client = gw.client();
    // Reserves ~600 tokens (the output cap plus the prompt estimate): the window is empty, so it goes.
    const first = client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI, max_tokens: 600 });
    // While the first one's reservation stands, a second of the same size does not fit.
    const second = failureOf(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI, max_tokens: 600 }),
    );
    await first;
    expect((await second).status).toBe(429);
    // Once the first is settled at its real 20 tokens, there is room again.
    await gw.gateway.runtime.requestLog.flush();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI, max_tokens: 600 });
    const usage = await usageOf(gw, 'test-client-key-0123456789');
    const key = Object.values(usage.details.openai!.keys)[0]!;
    expect(key.tokens.total).toBe(40);
  });

  it('prices give each answer its cost: the x-ai-proxy-cost header, the log record and /v1/usage', async () => {
    upstream.setDefault({
      kind: 'chat',
      content: 'ok',
      usage: { prompt_tokens: 1000, completion_tokens: 500 },
    });
    const gw = await gateway(`prices:
  gpt-4o-mini: { prompt_1k: 0.15, completion_1k: 0.6 }
providers:
  openai:
    keys: [sk-priced-0001]
`);
    const client = gw.client();
    const { response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: HI })
      .withResponse();
    expect(response.headers.get('x-ai-proxy-cost')).toBe('0.450000');
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: HI,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // drained
    }
    const records = await gw.requestLog();
    expect(records.map((r) => r.cost)).toEqual([0.45, 0.45]);
    const usage = await usageOf(gw, 'test-client-key-0123456789');
    expect(usage.overview.openai).toMatchObject({ total_requests: 2, total_cost: 0.9 });
    expect(Object.values(usage.clients)[0]).toEqual({ requests: 2, tokens: 3000, cost: 0.9 });
  });

  it('a keyless provider still counts in the client totals', async () => {
    upstream.setDefault({ kind: 'chat', content: 'ok', usage: { prompt_tokens: 4, completion_tokens: 1 } });
    const gw = await gateway('{}\n', { OLLAMA_BASE_URL: upstream.url });
    await gw.client().chat.completions.create({ model: 'ollama:llama3', messages: HI });
    expect(upstream.requests[0]?.headers.authorization).toBeUndefined();
    const usage = await usageOf(gw, 'test-client-key-0123456789');
    expect(Object.values(usage.clients)).toEqual([{ requests: 1, tokens: 5, cost: 0 }]);
  });

  it('a 401 sets the key aside and logs its id, never the key', async () => {
    upstream.onRequest((req) =>
      req.headers.authorization === 'Bearer sk-refused-0001' ? { kind: 'error', status: 401 } : undefined,
    );
    const gw = await gateway(`providers:
  openai:
    keys: [sk-refused-0001, sk-good-0002]
`);
    const client = gw.client();
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
    expect(
      upstream.requests.filter((r) => r.headers.authorization === 'Bearer sk-refused-0001'),
    ).toHaveLength(1);
    const warning = gw.processLog.find((line) => line.includes('refused a key'));
    expect(warning).toContain(providerKeyId('openai', 'sk-refused-0001'));
    expect(gw.processLog.join('\n')).not.toContain('sk-refused-0001');
  });
});
