// GET /metrics after real traffic through the gateway (a whole answer with cached and reasoning
// tokens, a stream, a fallback, an upstream error, a rate-limited key), read by value: requests by
// route/provider/model/status/client, attempts and errors by cause, fallbacks, tokens by type, cost,
// the GenAI histograms (token usage, operation duration, time to first token, time per output
// token), key-pool gauges against /v1/usage, the request-log queue, the log store's ingest, the
// process metrics; METRICS_KEY and METRICS_ENABLED=false; never a key in the text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerKeyId } from '../../src/config/build-providers.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';
import { parsePrometheus, type Sample, samplesOf, sampleValue } from '../support/prometheus-text.js';

const OPENAI_KEY = 'sk-metrics-openai-secret-0001';
const GROQ_KEY = 'sk-metrics-groq-secret-0002';
const HI = [{ role: 'user' as const, content: 'Hi' }];
const CHAT = '/v1/chat/completions';
const CONFIG = `model_mappings:
  fast: ["openai:gpt-4o-mini", "groq:llama3-8b-8192"]
prices:
  gpt-4o-mini: { prompt_1k: 1, completion_1k: 2 }
providers:
  openai:
    max_request_min: 100
`;

/** A whole OpenAI answer whose usage has cached input and reasoning output. */
const DETAILED_ANSWER = JSON.stringify({
  id: 'chatcmpl-metrics',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Cached hello' }, finish_reason: 'stop' }],
  usage: {
    prompt_tokens: 100,
    completion_tokens: 40,
    total_tokens: 140,
    prompt_tokens_details: { cached_tokens: 30 },
    completion_tokens_details: { reasoning_tokens: 10 },
  },
});

async function scrape(gw: TestGateway, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}/metrics`, { headers });
}

describe('GET /metrics', () => {
  let openai: ProviderEmulator;
  let groq: ProviderEmulator;
  let gw: TestGateway;
  let text: string;
  let samples: Sample[];
  let client: string;

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    groq = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${openai.url}/v1`,
        GROQ_API_KEY: GROQ_KEY,
        GROQ_BASE_URL: `${groq.url}/openai/v1`,
        PRICE_TABLE: 'false',
        RETRY_PER_TARGET: '1',
        RETRY_BACKOFF_MS: '1',
        RETRY_MAX_BACKOFF_MS: '5',
        LOGDB_ENABLED: 'true',
        LOGDB_INGEST_INTERVAL_MS: '3600000',
      },
      files: { 'config.yml': CONFIG },
    });
    const api = gw.client();

    // 1. A whole answer with cached input and reasoning tokens.
    openai.setDefault({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: DETAILED_ANSWER,
    });
    await api.chat.completions.create({ model: 'gpt-4o-mini', messages: HI });

    // 2. A stream that reports its usage, a few chunks apart.
    openai.setDefault({
      kind: 'chat',
      content: 'one two three four five',
      usage: { prompt_tokens: 12, completion_tokens: 5 },
      chunkDelayMs: 5,
    });
    const stream = await api.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: HI,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _chunk of stream) {
      // drained
    }

    // 3. A fallback: OpenAI answers 500 twice (one retry), Groq answers.
    openai.setDefault({ kind: 'error', status: 500 });
    groq.setDefault({ kind: 'chat', usage: { prompt_tokens: 9, completion_tokens: 3 } });
    await api.chat.completions.create({ model: 'fast', messages: HI });

    // 4. An upstream error: OpenAI alone, 500 twice, the client gets 502.
    await expect(api.chat.completions.create({ model: 'gpt-4o-mini', messages: HI })).rejects.toMatchObject({
      status: 502,
    });

    // 5. A 429: the only OpenAI key cools down, the client gets 429.
    openai.setDefault({ kind: 'error', status: 429, headers: { 'retry-after': '30' } });
    await expect(api.chat.completions.create({ model: 'gpt-4o-mini', messages: HI })).rejects.toMatchObject({
      status: 429,
    });

    const records = await gw.requestLog();
    client = records[0]?.client_key_hash as string;
    await gw.gateway.runtime.logStore?.runOnce();
    const response = await scrape(gw);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    text = await response.text();
    samples = parsePrometheus(text);
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await openai?.close();
    await groq?.close();
  });

  it('counts requests by route, provider, model, status and client (a short hash, never the key)', () => {
    expect(client).toMatch(/^[0-9a-f]{16}$/);
    const requests = (provider: string, model: string, status: string) =>
      sampleValue(samples, 'ai_proxy_requests_total', { route: CHAT, provider, model, status, client });
    expect(requests('openai', 'gpt-4o-mini', '200')).toBe(2);
    expect(requests('groq', 'llama3-8b-8192', '200')).toBe(1);
    expect(requests('openai', 'gpt-4o-mini', '502')).toBe(1);
    expect(requests('openai', 'gpt-4o-mini', '429')).toBe(1);
    expect(samplesOf(samples, 'ai_proxy_requests_total').reduce((sum, s) => sum + s.value, 0)).toBe(5);
    for (const secret of [CLIENT_KEY, OPENAI_KEY, GROQ_KEY]) expect(text).not.toContain(secret);
  });

  it('counts attempts and upstream errors by cause, and the fallback', () => {
    const attempts = (provider: string, model: string, outcome: string, status: string) =>
      sampleValue(samples, 'ai_proxy_upstream_attempts_total', { provider, model, outcome, status });
    expect(attempts('openai', 'gpt-4o-mini', 'ok', '200')).toBe(2);
    // Two in the fallback, two in the failed exchange.
    expect(attempts('openai', 'gpt-4o-mini', 'status', '500')).toBe(4);
    expect(attempts('openai', 'gpt-4o-mini', 'status', '429')).toBe(1);
    expect(attempts('groq', 'llama3-8b-8192', 'ok', '200')).toBe(1);
    expect(
      sampleValue(samples, 'ai_proxy_upstream_errors_total', {
        provider: 'openai',
        cause: 'status',
        status: '500',
      }),
    ).toBe(4);
    expect(
      sampleValue(samples, 'ai_proxy_upstream_errors_total', {
        provider: 'openai',
        cause: 'status',
        status: '429',
      }),
    ).toBe(1);
    expect(samplesOf(samples, 'ai_proxy_upstream_errors_total', { provider: 'groq' })).toEqual([]);
    expect(
      sampleValue(samples, 'ai_proxy_fallbacks_total', { from_provider: 'openai', to_provider: 'groq' }),
    ).toBe(1);
    expect(samplesOf(samples, 'ai_proxy_fallbacks_total')).toHaveLength(1);
    // Every attempt's duration is in the upstream histogram.
    const upstream = samplesOf(samples, 'ai_proxy_upstream_duration_seconds_count');
    expect(upstream.reduce((sum, s) => sum + s.value, 0)).toBe(8);
  });

  it('counts tokens by type and cost by provider, model and client', () => {
    const tokens = (provider: string, model: string, type: string) =>
      sampleValue(samples, 'ai_proxy_tokens_total', { provider, model, client, type });
    expect(tokens('openai', 'gpt-4o-mini', 'input')).toBe(112);
    expect(tokens('openai', 'gpt-4o-mini', 'cached_input')).toBe(30);
    expect(tokens('openai', 'gpt-4o-mini', 'cache_write_input')).toBe(0);
    expect(tokens('openai', 'gpt-4o-mini', 'output')).toBe(45);
    expect(tokens('openai', 'gpt-4o-mini', 'reasoning')).toBe(10);
    expect(tokens('groq', 'llama3-8b-8192', 'input')).toBe(9);
    expect(tokens('groq', 'llama3-8b-8192', 'output')).toBe(3);
    // $1 per 1k in (cached at the same rate), $2 per 1k out: (100 + 12) / 1000 + (40 + 5) * 2 / 1000.
    const cost = sampleValue(samples, 'ai_proxy_cost_usd_total', {
      provider: 'openai',
      model: 'gpt-4o-mini',
      client,
    });
    expect(cost).toBeCloseTo(0.112 + 0.09, 10);
    // Groq has no price here: no cost series.
    expect(samplesOf(samples, 'ai_proxy_cost_usd_total', { provider: 'groq' })).toEqual([]);
  });

  it('fills the GenAI histograms with the conventions names, labels and buckets', () => {
    const genAi = {
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: 'openai',
      gen_ai_request_model: 'gpt-4o-mini',
    };
    const input = { ...genAi, gen_ai_token_type: 'input' };
    expect(sampleValue(samples, 'gen_ai_client_token_usage_count', input)).toBe(2);
    expect(sampleValue(samples, 'gen_ai_client_token_usage_sum', input)).toBe(112);
    expect(sampleValue(samples, 'gen_ai_client_token_usage_bucket', { ...input, le: '16' })).toBe(1);
    expect(sampleValue(samples, 'gen_ai_client_token_usage_bucket', { ...input, le: '64' })).toBe(1);
    expect(sampleValue(samples, 'gen_ai_client_token_usage_bucket', { ...input, le: '256' })).toBe(2);
    expect(sampleValue(samples, 'gen_ai_client_token_usage_bucket', { ...input, le: '+Inf' })).toBe(2);
    const output = { ...genAi, gen_ai_token_type: 'output' };
    expect(sampleValue(samples, 'gen_ai_client_token_usage_sum', output)).toBe(45);
    expect(sampleValue(samples, 'gen_ai_client_token_usage_bucket', { ...output, le: '4' })).toBe(0);
    expect(sampleValue(samples, 'gen_ai_client_token_usage_bucket', { ...output, le: '16' })).toBe(1);

    // Two answered exchanges, one 502 and one 429 (error_type set), on OpenAI.
    expect(sampleValue(samples, 'gen_ai_client_operation_duration_seconds_count', genAi)).toBe(2);
    expect(
      sampleValue(samples, 'gen_ai_client_operation_duration_seconds_count', { ...genAi, error_type: '502' }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'gen_ai_client_operation_duration_seconds_count', { ...genAi, error_type: '429' }),
    ).toBe(1);
    const groqDuration = {
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: 'groq',
      gen_ai_request_model: 'llama3-8b-8192',
    };
    expect(sampleValue(samples, 'gen_ai_client_operation_duration_seconds_count', groqDuration)).toBe(1);

    // The stream alone has a first token and a time per output token (5 tokens, 4 after the first).
    expect(sampleValue(samples, 'gen_ai_server_time_to_first_token_seconds_count', genAi)).toBe(1);
    expect(sampleValue(samples, 'gen_ai_server_time_per_output_token_seconds_count', genAi)).toBe(1);
    const perToken = sampleValue(samples, 'gen_ai_server_time_per_output_token_seconds_sum', genAi)!;
    expect(perToken).toBeGreaterThan(0);
    expect(perToken).toBeLessThan(5);
  });

  it('times requests by route and their overhead', () => {
    expect(sampleValue(samples, 'ai_proxy_request_duration_seconds_count', { route: CHAT })).toBe(5);
    expect(sampleValue(samples, 'ai_proxy_request_duration_seconds_sum', { route: CHAT })).toBeGreaterThan(0);
    expect(
      sampleValue(samples, 'ai_proxy_request_duration_seconds_bucket', { route: CHAT, le: '+Inf' }),
    ).toBe(5);
    // Every exchange that reached an upstream has an overhead.
    expect(sampleValue(samples, 'ai_proxy_overhead_seconds_count', { route: CHAT })).toBe(3);
  });

  it('shows key-pool headroom as /v1/usage counts it, and the cooling key', async () => {
    const usage = (await (
      await fetch(`${gw.baseURL}/usage`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })
    ).json()) as {
      details: Record<string, { keys: Record<string, { rate_limit_windows: { req_min: number } }> }>;
    };
    const keyId = providerKeyId('openai', OPENAI_KEY);
    const used = usage.details.openai?.keys[keyId]?.rate_limit_windows.req_min;
    expect(used).toBeGreaterThan(0);
    const headroom = sampleValue(samples, 'ai_proxy_key_headroom_ratio', {
      provider: 'openai',
      key_id: keyId,
      limit: 'requests_per_minute',
    });
    expect(headroom).toBeCloseTo((100 - used!) / 100, 10);
    expect(
      sampleValue(samples, 'ai_proxy_keys_cooling', { provider: 'openai', reason: 'rate-limited' }),
    ).toBe(1);
    expect(sampleValue(samples, 'ai_proxy_keys_cooling', { provider: 'groq', reason: 'rate-limited' })).toBe(
      0,
    );
    // Groq's key has no limit: no headroom series.
    expect(samplesOf(samples, 'ai_proxy_key_headroom_ratio', { provider: 'groq' })).toEqual([]);
  });

  it('shows the queues, the log store ingest and the process', () => {
    expect(sampleValue(samples, 'ai_proxy_requests_in_flight')).toBe(0);
    expect(sampleValue(samples, 'ai_proxy_request_log_queue_records')).toBe(0);
    expect(sampleValue(samples, 'ai_proxy_logstore_ingest_passes_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'ai_proxy_logstore_ingested_rows_total')).toBe(5);
    expect(sampleValue(samples, 'ai_proxy_logstore_ingest_lag_seconds')).toBeLessThan(30);
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it("labels a managed key's exchanges and usage by its id and name, never the key", async () => {
    const managed = await startTestGateway({
      env: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `${openai.url}/v1`, PRICE_TABLE: 'false' },
    });
    try {
      const created = await managed.gateway.runtime.managedKeys.create({
        name: 'team-red',
        policy: {},
        expiresAt: null,
      });
      openai.setDefault({ kind: 'chat', usage: { prompt_tokens: 6, completion_tokens: 2 } });
      await managed.client(created.key).chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
      await managed.requestLog();
      const scraped = await (await scrape(managed)).text();
      expect(scraped).not.toContain(created.key);
      const found = parsePrometheus(scraped);
      const who = { client: created.record.id, client_name: 'team-red' };
      expect(
        sampleValue(found, 'ai_proxy_requests_total', {
          route: CHAT,
          provider: 'openai',
          model: 'gpt-4o-mini',
          status: '200',
          ...who,
        }),
      ).toBe(1);
      expect(
        sampleValue(found, 'ai_proxy_tokens_total', {
          provider: 'openai',
          model: 'gpt-4o-mini',
          type: 'input',
          ...who,
        }),
      ).toBe(6);
    } finally {
      await managed.stop();
    }
  });

  it('METRICS_KEY: refused without it or with another, answered with it', async () => {
    const locked = await startTestGateway({ env: { METRICS_KEY: 'metrics-secret-123' } });
    try {
      const none = await scrape(locked);
      expect(none.status).toBe(401);
      expect(await none.text()).toContain('METRICS_KEY');
      expect((await scrape(locked, { authorization: 'Bearer wrong' })).status).toBe(401);
      // A client key is not the metrics key.
      expect((await scrape(locked, { authorization: `Bearer ${CLIENT_KEY}` })).status).toBe(401);
      const ok = await scrape(locked, { authorization: 'Bearer metrics-secret-123' });
      expect(ok.status).toBe(200);
      expect(parsePrometheus(await ok.text()).some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(
        true,
      );
    } finally {
      await locked.stop();
    }
  });

  it('METRICS_ENABLED=false: no /metrics, and exchanges still work', async () => {
    const off = await startTestGateway({
      env: { METRICS_ENABLED: 'false', OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `${openai.url}/v1` },
    });
    try {
      openai.setDefault({ kind: 'chat' });
      const answer = await off.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
      expect(answer.choices[0]?.message.content).toContain('Hello from emulator');
      expect((await scrape(off)).status).toBe(404);
      expect(off.gateway.runtime.metrics).toBeUndefined();
      const [record] = await off.requestLog();
      expect(record?.status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
