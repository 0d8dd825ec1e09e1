// POST /v1/messages to an Anthropic-protocol upstream: the official Anthropic SDK talks to the real
// gateway, which passes the body through with only `model` rewritten, forwards the client's
// anthropic-version and anthropic-beta headers, relays the stream byte for byte and answers errors
// in Anthropic's shape.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeCodeRequest } from '../support/claude-code-request.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const ANTHROPIC_KEY = 'sk-ant-native-secret-0001';

const CONFIG = `model_mappings:
  "claude-sonnet-4-5-20250929": "anthropic:claude-sonnet-4-5"
prices:
  claude-sonnet-4-5: { prompt_1k: 0.003, completion_1k: 0.015, cache_read_1k: 0.0003, cache_write_1k: 0.00375 }
`;

/** An Anthropic stream with a signed thinking block, text, a tool call and cache usage, as sent. */
function recordedStream(): string {
  const event = (data: Record<string, unknown>) =>
    `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
  return [
    event({
      type: 'message_start',
      message: {
        id: 'msg_01native',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 12,
          cache_creation_input_tokens: 2048,
          cache_read_input_tokens: 4096,
          output_tokens: 1,
        },
      },
    }),
    event({ type: 'ping' }),
    event({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    }),
    event({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'thinking_delta', thinking: 'The user wants the weather.' },
    }),
    event({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'signature_delta', signature: 'EqQBCkYIBxgCKkBsig==' },
    }),
    event({ type: 'content_block_stop', index: 0 }),
    event({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
    event({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Checking Paris ' } }),
    event({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'now.' } }),
    event({ type: 'content_block_stop', index: 1 }),
    event({
      type: 'content_block_start',
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_01paris', name: 'get_weather', input: {} },
    }),
    event({
      type: 'content_block_delta',
      index: 2,
      delta: { type: 'input_json_delta', partial_json: '{"loc' },
    }),
    event({
      type: 'content_block_delta',
      index: 2,
      delta: { type: 'input_json_delta', partial_json: 'ation": "Paris"}' },
    }),
    event({ type: 'content_block_stop', index: 2 }),
    event({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 57 },
    }),
    event({ type: 'message_stop' }),
  ].join('');
}

describe('/v1/messages to an Anthropic upstream (native pass-through)', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let client: Anthropic;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: `${upstream.url}/v1` },
      files: { 'config.yml': CONFIG },
    });
    client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 15_000 });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('answers messages.create with the upstream message, sending the provider key, never the client key', async () => {
    upstream.enqueue({
      kind: 'chat',
      content: 'Bonjour!',
      usage: { prompt_tokens: 9, completion_tokens: 3 },
    });
    const { data, response } = await client.messages
      .create({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 256,
        system: 'Answer in French.',
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .withResponse();
    expect(data.type).toBe('message');
    expect(data.content).toEqual([{ type: 'text', text: 'Bonjour!' }]);
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage.input_tokens).toBe(9);
    expect(response.headers.get('request-id')).toMatch(/\S/);
    expect(response.headers.get('x-ai-proxy-provider')).toBe('anthropic');

    const [seen] = upstream.requests;
    expect(seen?.path).toBe('/v1/messages');
    expect(seen?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(seen?.headers.authorization).toBeUndefined();
    // The SDK's own anthropic-version is forwarded.
    expect(seen?.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((seen?.body as { model: string } | undefined)?.model).toBe('claude-sonnet-4-5');
  });

  it('forwards the client’s anthropic-version, and sends 2023-06-01 when it sent none', async () => {
    for (const version of ['2099-01-01', undefined]) {
      upstream.reset();
      upstream.enqueue({ kind: 'chat', content: 'ok' });
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': CLIENT_KEY,
          ...(version === undefined ? {} : { 'anthropic-version': version }),
        },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 8,
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      });
      expect(res.status).toBe(200);
      expect(upstream.requests[0]?.headers['anthropic-version']).toBe(version ?? '2023-06-01');
      expect(upstream.requests[0]?.headers['anthropic-beta']).toBeUndefined();
    }
  });

  it('accepts Authorization: Bearer, as Claude Code sends ANTHROPIC_AUTH_TOKEN', async () => {
    upstream.enqueue({ kind: 'chat', content: 'ok' });
    const bearer = new Anthropic({ baseURL: gw.url, authToken: CLIENT_KEY, apiKey: null, maxRetries: 0 });
    const message = await bearer.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(message.content[0]).toEqual({ type: 'text', text: 'ok' });
    expect(upstream.requests[0]?.headers.authorization).toBeUndefined();
    expect(upstream.requests[0]?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
  });

  it('relays a stream byte for byte; messages.stream().finalMessage() assembles it', async () => {
    const sent = recordedStream();
    upstream.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: sent.slice(0, 700),
      chunks: [sent.slice(700, 1501), sent.slice(1501)],
      chunkDelayMs: 5,
    });
    const raw = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': CLIENT_KEY,
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 1024,
        stream: true,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await raw.text()).toBe(sent);

    upstream.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: sent,
    });
    const final = await client.messages
      .stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'Weather?' }],
      })
      .finalMessage();
    expect(final.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(final.content[0]).toMatchObject({
      thinking: 'The user wants the weather.',
      signature: 'EqQBCkYIBxgCKkBsig==',
    });
    expect(final.content[2]).toMatchObject({ name: 'get_weather', input: { location: 'Paris' } });
    expect(final.usage).toMatchObject({
      cache_read_input_tokens: 4096,
      cache_creation_input_tokens: 2048,
      output_tokens: 57,
    });
  });

  it('logs a Messages stream as one Message, priced with its cache reads and writes, and counts it in /v1/usage', async () => {
    upstream.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: recordedStream(),
    });
    const final = await client.messages
      .stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 1024,
        system: 'You forecast weather with a unique-word zephyrine.',
        messages: [{ role: 'user', content: 'Weather?' }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const records = await gw.requestLog();
    const record = records.findLast((r) => r.endpoint === '/v1/messages' && r.stream === true);
    expect(record).toMatchObject({
      status: 200,
      provider: 'anthropic',
      model_mapped: 'claude-sonnet-4-5',
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 2048,
        cache_read_input_tokens: 4096,
        output_tokens: 57,
      },
      error: null,
    });
    // 12 × 0.003 + 2048 × 0.00375 + 4096 × 0.0003 + 57 × 0.015, per 1k tokens.
    expect(record?.cost).toBeCloseTo(0.0098, 6);
    const response = record?.response as { content: Array<{ type: string }>; stop_reason: string };
    expect(response.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(response.stop_reason).toBe('tool_use');
    expect((record?.request as { system: string } | undefined)?.system).toContain('zephyrine');

    const usage = (await (
      await fetch(`${gw.url}/v1/usage`, { headers: { 'x-api-key': CLIENT_KEY } })
    ).json()) as { clients: Record<string, { requests: number; cost: number }> };
    const totals = Object.values(usage.clients);
    expect(totals.reduce((sum, c) => sum + c.requests, 0)).toBeGreaterThan(0);
    expect(totals.reduce((sum, c) => sum + c.cost, 0)).toBeGreaterThanOrEqual(0.0098);
  });

  it('passes a Claude Code request through byte-identical except model, with its beta headers', async () => {
    upstream.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: recordedStream(),
    });
    const body = claudeCodeRequest('claude-sonnet-4-5-20250929');
    const text = JSON.stringify(body, null, 1);
    const beta =
      'claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14';
    const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${CLIENT_KEY}`,
        'anthropic-version': '2023-06-01',
        'anthropic-beta': beta,
      },
      body: text,
    });
    expect(res.status).toBe(200);
    await res.text();
    const [seen] = upstream.requests;
    expect(seen?.rawBody).toBe(
      text.replace('"model": "claude-sonnet-4-5-20250929"', '"model": "claude-sonnet-4-5"'),
    );
    expect(seen?.headers['anthropic-beta']).toBe(beta);
    expect(seen?.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('relays an Anthropic error body as it came, with its status', async () => {
    const body = {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages.1: thinking blocks cannot be modified' },
      request_id: 'req_upstream_1',
    };
    upstream.enqueue({ kind: 'error', status: 400, body });
    const error = await client.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const apiError = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect(apiError.error).toEqual(body);
  });

  it('answers bad input with a 400 in Anthropic shape that names the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] }, /max_tokens/],
      [{ model: 'claude-sonnet-4-5', max_tokens: 5 }, /messages/],
      [
        { model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'system', content: 'Be brief' }] },
        /messages\[0\]\.role.*top-level 'system'/,
      ],
      [{ model: 'claude-sonnet-4-5', max_tokens: '5', messages: [] }, /max_tokens/],
      [
        { model: 'claude-sonnet-4-5', max_tokens: 5, messages: [], tool_choice: { type: 'tool' } },
        /tool_choice\.name/,
      ],
    ];
    for (const [body, pattern] of cases) {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('request-id')).toMatch(/\S/);
      const answer = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(answer.type).toBe('error');
      expect(answer.error.type).toBe('invalid_request_error');
      expect(answer.error.message).toMatch(pattern);
    }
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
      body: '{"model": "claude-sonnet-4-5", "max_tokens": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers auth, routing and upstream failures with the matching Anthropic error types', async () => {
    const stranger = new Anthropic({ baseURL: gw.url, apiKey: 'not-a-key', maxRetries: 0 });
    const denied = await stranger.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((denied as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });

    const missing = await client.messages
      .create({ model: 'no-such-model-anywhere', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: 'not_found_error' },
    });

    upstream.enqueue({ kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' });
    const broken = await client.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(Anthropic.APIError);
    expect((broken as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((broken as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: 'api_error' },
    });
  });

  it('ends a stream cut after its first byte with an Anthropic error event', async () => {
    upstream.enqueue({ kind: 'cut-stream', afterChunks: 2 });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    const text = await res.text();
    expect(text).toMatch(/^event: message_start\n/);
    expect(text).toMatch(
      /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"anthropic: the stream broke off[^"]*"\}\}\n\n$/,
    );
    expect(text).not.toContain('message_stop');

    upstream.enqueue({ kind: 'cut-stream', afterChunks: 2 });
    const failed = await client.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
  });

  it('rejects other methods with a 405 in Anthropic shape', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { headers: { 'x-api-key': CLIENT_KEY } });
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});
