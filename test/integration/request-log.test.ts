import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import {
  CLIENT_KEY,
  makeTempDir,
  readRequestLog,
  startTestGateway,
  type TestGateway,
} from '../support/gateway.js';

const UPSTREAM_KEY = 'sk-upstream-secret';
const CONFIG = 'model_mappings:\n  my-alias: "openai:gpt-4o-mini"\n';
type LogRecord = Record<string, unknown>;

/** Every field SPEC §8 names, as the request log spells it. */
const SPEC_FIELDS = [
  'id',
  'time',
  'server_id',
  'endpoint',
  'client_key_hash',
  'model_requested',
  'model_mapped',
  'provider',
  'key_id',
  'status',
  'latency_ms',
  'ttfb_ms',
  'stream',
  'attempts',
  'usage',
  'cost',
  'request',
  'response',
  'error',
];

function logFiles(logDir: string): string[] {
  const dir = join(logDir, 'requests');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** The raw lines of every request-log file; each must be one JSON object. */
function rawLines(logDir: string): string[] {
  return logFiles(logDir).flatMap((name) =>
    readFileSync(join(logDir, 'requests', name), 'utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
}

function rawText(logDir: string): string {
  return logFiles(logDir)
    .map((name) => readFileSync(join(logDir, 'requests', name), 'utf8'))
    .join('');
}

async function post(gw: TestGateway, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('the request log', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let logDir: string;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${upstream.url}/v1` },
      files: { 'config.yml': CONFIG },
    });
    logDir = gw.gateway.runtime.config.log.dir;
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  async function recordFor(id: string | null): Promise<LogRecord> {
    const records = (await gw.requestLog()).filter((r) => r.id === id);
    expect(records, `records with id ${id}`).toHaveLength(1);
    return records[0] as LogRecord;
  }

  it('holds one line per non-stream chat, with every field of SPEC §8', async () => {
    // Written by the log writer thread (the build's; npm test builds first), as in production.
    expect(gw.gateway.runtime.requestLog.mode).toBe('thread');
    const before = Date.now();
    const linesBefore = rawLines(logDir).length;
    const body = {
      model: 'my-alias',
      messages: [{ role: 'user' as const, content: 'Hi there' }],
      temperature: 0.5,
    };
    const { data, response } = await gw.client().chat.completions.create(body).withResponse();
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^req_/);
    const record = await recordFor(id);
    expect(rawLines(logDir).length).toBe(linesBefore + 1);

    for (const field of SPEC_FIELDS) expect(record, `field ${field}`).toHaveProperty(field);
    const time = Date.parse(record.time as string);
    expect(time).toBeGreaterThanOrEqual(before - 1000);
    expect(time).toBeLessThanOrEqual(Date.now() + 1000);
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // The file is named after the record's UTC day.
    expect(logFiles(logDir)).toContain(`${(record.time as string).slice(0, 10)}.jsonl`);

    expect(record).toMatchObject({
      server_id: gw.gateway.runtime.identity.server_id,
      endpoint: '/v1/chat/completions',
      model_requested: 'my-alias',
      model_mapped: 'gpt-4o-mini',
      provider: 'openai',
      key_id: response.headers.get('x-ai-proxy-key'),
      status: 200,
      stream: false,
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      error: null,
    });
    expect(record.server_id).toMatch(/\S/);
    expect(record.client_key_hash).toMatch(/^[0-9a-f]{8,16}$/);
    expect(record.key_id).toMatch(/^openai-[0-9a-f]{8}$/);
    expect(typeof record.latency_ms).toBe('number');
    expect(record.latency_ms as number).toBeGreaterThanOrEqual(0);
    expect(typeof record.ttfb_ms).toBe('number');
    expect(record.ttfb_ms as number).toBeLessThanOrEqual((record.latency_ms as number) + 1);
    expect(record.attempts).toEqual([
      expect.objectContaining({ provider: 'openai', model: 'gpt-4o-mini', status: 200, outcome: 'ok' }),
    ]);
    expect(record.request).toEqual(body);
    expect(record.response).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('echoes a client-sent x-request-id and records it beside the gateway id', async () => {
    const { response } = await gw
      .client()
      .chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] },
        { headers: { 'x-request-id': 'client-req-0001' } },
      )
      .withResponse();
    expect(response.headers.get('x-request-id')).toBe('client-req-0001');
    const records = (await gw.requestLog()).filter((r) => r.client_request_id === 'client-req-0001');
    expect(records).toHaveLength(1);
    // The record's own id stays the gateway's, so a client reusing ids cannot collide in the store.
    expect(records[0]?.id).toMatch(/^req_[0-9a-f]{12}[0-9a-z]{6,}$/);
  });

  it('replaces a client x-request-id that is not a sane token, and logs under the id it answered with', async () => {
    for (const sent of ['has spaces in it', 'x'.repeat(300), '<script>']) {
      const response = await post(
        gw,
        JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
        { 'x-request-id': sent },
      );
      expect(response.status).toBe(200);
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^req_/);
      await recordFor(id);
    }
  });

  it('gives each exchange its own id', async () => {
    const client = gw.client();
    const ids = await Promise.all(
      [1, 2, 3].map(async () => {
        const { response } = await client.chat.completions
          .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
          .withResponse();
        return response.headers.get('x-request-id');
      }),
    );
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) await recordFor(id);
  });

  it("records a stream's assembled message and the usage from its usage chunk", async () => {
    upstream.enqueue({
      kind: 'chat',
      content: 'Streamed words, joined again — ünïcode 🚀',
      usage: { prompt_tokens: 21, completion_tokens: 9 },
    });
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({
        model: 'my-alias',
        messages: [{ role: 'user', content: 'Stream please' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Streamed words, joined again — ünïcode 🚀');
    const record = await recordFor(response.headers.get('x-request-id'));
    expect(record).toMatchObject({
      stream: true,
      status: 200,
      model_requested: 'my-alias',
      model_mapped: 'gpt-4o-mini',
      provider: 'openai',
      usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 },
      error: null,
    });
    expect(typeof record.ttfb_ms).toBe('number');
    expect(record.response).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Streamed words, joined again — ünïcode 🚀' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 },
    });
    expect(record.request).toMatchObject({ model: 'my-alias', stream: true });
  });

  it("records a streamed answer's tool calls joined per index", async () => {
    upstream.enqueue({
      kind: 'chat',
      toolCalls: [
        { id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' },
        { id: 'call_2', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ],
    });
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Weather and time?' }],
        stream: true,
      })
      .withResponse();
    for await (const _ of stream) {
      // drain
    }
    const record = await recordFor(response.headers.get('x-request-id'));
    expect(record.response).toMatchObject({
      choices: [
        {
          message: {
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' },
              },
              {
                id: 'call_2',
                type: 'function',
                function: { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
    });
    // No include_usage asked: the stream had no usage chunk.
    expect(record.usage).toBeNull();
  });

  it('records the X-Dialog-Id header as dialog_id', async () => {
    const { response } = await gw
      .client()
      .chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] },
        { headers: { 'X-Dialog-Id': 'dialog-42' } },
      )
      .withResponse();
    expect((await recordFor(response.headers.get('x-request-id'))).dialog_id).toBe('dialog-42');
    const plain = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect((await recordFor(plain.response.headers.get('x-request-id'))).dialog_id).toBeNull();
  });

  it('logs a 401 with its status and error', async () => {
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-client-key-xyz', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(401);
    const record = await recordFor(response.headers.get('x-request-id'));
    expect(record).toMatchObject({
      status: 401,
      endpoint: '/v1/chat/completions',
      error: { code: 'invalid_api_key', type: 'invalid_request_error' },
    });
    expect(rawText(logDir)).not.toContain('wrong-client-key-xyz');
  });

  it('logs a 400 (missing messages) with its status and error', async () => {
    const response = await post(gw, JSON.stringify({ model: 'gpt-4o-mini' }));
    expect(response.status).toBe(400);
    const record = await recordFor(response.headers.get('x-request-id'));
    expect(record).toMatchObject({
      status: 400,
      error: { code: 'invalid_request', param: 'messages' },
      request: { model: 'gpt-4o-mini' },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('logs a 400 for a body that is not JSON as one valid JSON line', async () => {
    const linesBefore = rawLines(logDir).length;
    const response = await post(gw, '{"model": "gpt-4o-mini", "messages": [oops');
    expect(response.status).toBe(400);
    const id = response.headers.get('x-request-id');
    await gw.requestLog();
    const lines = rawLines(logDir);
    expect(lines.length).toBe(linesBefore + 1);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const record = await recordFor(id);
    expect(record).toMatchObject({ status: 400, error: { code: 'invalid_request' } });
    // What was sent is kept, as a string, since it is not JSON.
    expect(record.request).toBe('{"model": "gpt-4o-mini", "messages": [oops');
  });

  it('logs a 400 for an empty or blank body as one valid JSON line', async () => {
    for (const body of ['', '   \n  ']) {
      const linesBefore = rawLines(logDir).length;
      const response = await post(gw, body);
      expect(response.status).toBe(400);
      const id = response.headers.get('x-request-id');
      await gw.requestLog();
      const lines = rawLines(logDir);
      expect(lines.length).toBe(linesBefore + 1);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect((await recordFor(id)).status).toBe(400);
    }
  });

  it('logs a 404 for an unroutable model with its status and error', async () => {
    const response = await post(
      gw,
      JSON.stringify({ model: 'no-such-model-xyz', messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(response.status).toBe(404);
    const record = await recordFor(response.headers.get('x-request-id'));
    expect(record).toMatchObject({
      status: 404,
      model_requested: 'no-such-model-xyz',
      error: { code: 'model_not_found' },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it("logs an upstream's own 4xx with its status, the provider and the attempt", async () => {
    upstream.enqueue({
      kind: 'error',
      status: 422,
      body: {
        error: {
          message: 'bad temperature',
          type: 'invalid_request_error',
          param: 'temperature',
          code: null,
        },
      },
    });
    const response = await post(
      gw,
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(response.status).toBe(422);
    const record = await recordFor(response.headers.get('x-request-id'));
    expect(record).toMatchObject({ status: 422, provider: 'openai' });
    expect(JSON.stringify(record.error)).toContain('bad temperature');
    expect((record.attempts as unknown[]).length).toBeGreaterThanOrEqual(1);
  });

  it('writes a pretty-printed (multi-line) JSON body as exactly one valid JSON line', async () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Line one\nline two\r\nand a "quote"' },
        { role: 'user', content: 'tab\there, unicode ü 東京 🚀, separators \u2028 \u2029' },
      ],
    };
    for (const text of [
      JSON.stringify(body, null, 2),
      JSON.stringify(body, null, '\t').replace(/\n/g, '\r\n'),
      JSON.stringify(body, null, 4).replace(/\n/g, '\r'),
    ]) {
      const linesBefore = rawLines(logDir).length;
      const response = await post(gw, text);
      expect(response.status).toBe(200);
      const id = response.headers.get('x-request-id');
      await gw.requestLog();
      const lines = rawLines(logDir);
      expect(lines.length).toBe(linesBefore + 1);
      const last = JSON.parse(lines.at(-1) ?? '') as LogRecord;
      expect(last.id).toBe(id);
      expect(last.request).toEqual(body);
    }
  });

  it('never writes the provider key or the client key into the log file', async () => {
    await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await gw.requestLog();
    const text = rawText(logDir);
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(UPSTREAM_KEY);
    expect(text).not.toContain(CLIENT_KEY);
    expect(gw.processLog.join('\n')).not.toContain(UPSTREAM_KEY);
  });
});

describe('request log settings and lifecycle', () => {
  let upstream: ProviderEmulator;
  let logDir: string;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.reset();
    // Outside every gateway's own directory, which stop() removes.
    logDir = makeTempDir('ai-proxy-log-');
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gw) => gw.stop()));
    rmSync(logDir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}): Promise<TestGateway> {
    const gw = await startTestGateway({
      env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${upstream.url}/v1`, LOG_DIR: logDir, ...env },
    });
    gateways.push(gw);
    return gw;
  }

  it('LOG_BODIES=false leaves the request and response bodies out', async () => {
    const gw = await start({ LOG_BODIES: 'false' });
    await gw.client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'secret prompt' }],
    });
    const stream = await gw.client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'secret prompt' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // drain
    }
    const records = await gw.requestLog();
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(record.request ?? null).toBeNull();
      expect(record.response ?? null).toBeNull();
      // Usage is accounting, not a body: it stays.
      expect(record.usage).toMatchObject({ total_tokens: 15 });
    }
    const text = rawText(logDir);
    expect(text).not.toContain('secret prompt');
    expect(text).not.toContain('Hello from emulator');
  });

  it('server_id is stable across two gateways started on the same LOG_DIR', async () => {
    const first = await start();
    await first
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await first.stop();
    const second = await start();
    await second
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    await second.requestLog();
    const records = readRequestLog(logDir);
    expect(records).toHaveLength(2);
    expect(records[0]?.server_id).toBe(records[1]?.server_id);
    expect(second.gateway.runtime.identity.server_id).toBe(records[0]?.server_id);
  });

  it('stop() flushes records written just before it', async () => {
    const gw = await start();
    const client = gw.client();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `Hi ${i}` }],
        }),
      ),
    );
    await gw.stop();
    const records = readRequestLog(logDir);
    expect(records).toHaveLength(20);
    expect(new Set(records.map((r) => r.id)).size).toBe(20);
  });

  it('stop() with requests in flight lets them finish and logs every one', async () => {
    const gw = await start();
    upstream.setDefault({ kind: 'chat', delayMs: 300 });
    const client = gw.client();
    const calls = Array.from({ length: 20 }, (_, i) =>
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `Hi ${i}` }],
      }),
    );
    await upstream.waitForRequests(20);
    await gw.stop();
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    const records = readRequestLog(logDir);
    expect(records).toHaveLength(20);
    expect(records.every((r) => r.status === 200)).toBe(true);
  });

  it('stop() while a request is still sending its body: it is answered and logged', async () => {
    const gw = await start();
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'slow upload' }],
    });
    const half = Math.floor(body.length / 2);
    const answer = new Promise<{ status: number; id: string | undefined; text: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          `${gw.baseURL}/chat/completions`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${CLIENT_KEY}`,
              'content-type': 'application/json',
              'content-length': String(Buffer.byteLength(body)),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              text += chunk;
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                id: res.headers['x-request-id'] as string | undefined,
                text,
              }),
            );
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, half));
        setTimeout(() => {
          stopping = gw.stop();
          setTimeout(() => req.end(body.slice(half)), 150);
        }, 150);
      },
    );
    let stopping: Promise<void> | undefined;
    const result = await answer;
    await stopping;
    // Work that started before the stop is finished, not cut off.
    expect(result.status, result.text).toBe(200);
    const records = readRequestLog(logDir);
    expect(records.map((r) => r.id)).toEqual([result.id]);
  });

  it('stop() right after streams finish logs them too', async () => {
    const gw = await start();
    const client = gw.client();
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const stream = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `Hi ${i}` }],
          stream: true,
        });
        for await (const _ of stream) {
          // drain
        }
      }),
    );
    await gw.stop();
    const records = readRequestLog(logDir);
    expect(records).toHaveLength(10);
    expect(records.every((r) => r.stream === true)).toBe(true);
  });
});
