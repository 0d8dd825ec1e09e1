// Upstream answers are bounded in memory (issue 12 §3): a non-stream answer past RESPONSE_LIMIT is
// a 502 naming the limit and is not read further; an error body is read only up to
// ERROR_BODY_LIMIT; a stream of any size reaches the client whole while the request log keeps its
// start and end up to LOG_STREAM_LIMIT, marked `response_truncated`. The emulator writes the large
// bodies piece by piece as they are read, so what uses memory here is the gateway alone.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { failureOf } from '../support/api-error.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const HI = [{ role: 'user' as const, content: 'Hi' }];
const MB = 1024 * 1024;
const CONFIG = `model_mappings:
  fast: ["openai:gpt-4o-mini", "groq:llama3-8b-8192"]
`;

/** The day files' lines as text, to look at sizes as well as content. */
function logLines(gw: TestGateway): string[] {
  const dir = join(gw.gateway.runtime.config.log.dir, 'requests');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
    .filter((line) => line !== '');
}

describe('upstream answer size limits', () => {
  let openai: ProviderEmulator;
  let groq: ProviderEmulator;
  const started: TestGateway[] = [];

  async function gateway(env: Record<string, string> = {}): Promise<TestGateway> {
    const gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: 'sk-limits-openai-0001',
        OPENAI_BASE_URL: `${openai.url}/v1`,
        GROQ_API_KEY: 'sk-limits-groq-0002',
        GROQ_BASE_URL: `${groq.url}/openai/v1`,
        RETRY_PER_TARGET: '0',
        RETRY_BACKOFF_MS: '1',
        ...env,
      },
      files: { 'config.yml': CONFIG },
    });
    started.push(gw);
    return gw;
  }

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    groq = await ProviderEmulator.start();
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
    await Promise.all(started.splice(0).map((gw) => gw.stop()));
  });

  it('defaults: 32mb answers, 64kb error bodies, 8mb of a stream in the log', async () => {
    const gw = await gateway();
    const { config } = gw.gateway.runtime;
    expect(config.responseLimitBytes).toBe(32 * MB);
    expect(config.errorBodyLimitBytes).toBe(64 * 1024);
    expect(config.log.streamLimitBytes).toBe(8 * MB);
  });

  it('a non-stream answer past RESPONSE_LIMIT is a 502 naming the limit; the upstream is cut off', async () => {
    const gw = await gateway({ RESPONSE_LIMIT: '1mb' });
    openai.enqueue({ kind: 'large', shape: 'answer', bytes: 64 * MB });
    const error = await failureOf(gw.client().chat.completions.create({ model: 'fast', messages: HI }));
    expect(error.status).toBe(502);
    expect(error.error).toMatchObject({ type: 'api_error', code: 'upstream_error' });
    const message = (error.error as { message: string }).message;
    expect(message).toContain('openai');
    expect(message).toContain('response limit of 1mb');
    expect(message).toContain('RESPONSE_LIMIT');
    // Not a fallback case: another target's answer would be as large.
    expect(groq.requests).toHaveLength(0);
    // The gateway stopped reading and dropped the connection long before 64 MB.
    await vi.waitFor(() => expect(openai.abortedCount).toBe(1));

    const record = (await gw.requestLog()).find((r) => r.id === error.requestID) as
      | Record<string, unknown>
      | undefined;
    expect(record).toMatchObject({ status: 502, response: null });
    expect(record?.attempts).toEqual([
      expect.objectContaining({ provider: 'openai', status: 200, outcome: 'too_large' }),
    ]);
  });

  it('an answer within the limit is served as before', async () => {
    const gw = await gateway({ RESPONSE_LIMIT: '1mb' });
    openai.enqueue({ kind: 'large', shape: 'answer', bytes: 512 * 1024 });
    const data = await gw.client().chat.completions.create({ model: 'fast', messages: HI });
    expect(data.choices[0]?.message.content).toHaveLength(512 * 1024);
  });

  it('a huge upstream error is cut: the client and the log get a short message', async () => {
    const gw = await gateway();
    openai.enqueue({ kind: 'large', shape: 'error', status: 500, bytes: 50 * MB });
    const error = await failureOf(
      gw.client().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: HI }),
    );
    expect(error.status).toBe(502);
    const body = JSON.stringify(error.error);
    expect(body.length).toBeLessThan(2000);
    expect(body).toContain('openai returned 500');
    await vi.waitFor(() => expect(openai.abortedCount).toBe(1));

    await gw.requestLog();
    const line = logLines(gw).find((l) => l.includes(error.requestID ?? '-'));
    expect(line).toBeDefined();
    expect(line!.length).toBeLessThan(10_000);
  });

  it('a huge 4xx error body is cut too, and still goes back as the provider error', async () => {
    const gw = await gateway({ ERROR_BODY_LIMIT: '16kb' });
    openai.enqueue({ kind: 'large', shape: 'error', status: 400, bytes: 8 * MB });
    const error = await failureOf(
      gw.client().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: HI }),
    );
    expect(error.status).toBe(400);
    expect(JSON.stringify(error.error).length).toBeLessThan(2000);
    await vi.waitFor(() => expect(openai.abortedCount).toBe(1));
  });

  it('a stream past LOG_STREAM_LIMIT reaches the client whole; the log keeps its start and end, marked', async () => {
    const gw = await gateway({ LOG_STREAM_LIMIT: '1mb' });
    openai.enqueue({ kind: 'large', shape: 'stream', bytes: 24 * MB });
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages: HI, stream: true }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let received = 0;
    let last = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
      last = (last + Buffer.from(value).toString('latin1')).slice(-300);
    }
    // ~380 content events of 64 KB each, then the finish, the usage and [DONE]: all of it.
    expect(received).toBeGreaterThan(24 * MB);
    expect(last).toContain('"finish_reason":"stop"');
    expect(last.endsWith('data: [DONE]\n\n')).toBe(true);

    await gw.requestLog();
    const line = logLines(gw).find((l) => l.includes(response.headers.get('x-request-id') ?? '-'));
    expect(line).toBeDefined();
    expect(line!.length).toBeLessThan(1.2 * MB);
    const record = JSON.parse(line!) as Record<string, unknown>;
    expect(record).toMatchObject({ status: 200, stream: true, error: null, response_truncated: true });
    // The end survived the cut: the finish reason and the usage the key accounting needs.
    expect((record.usage as { completion_tokens: number }).completion_tokens).toBeGreaterThan(300);
    const completion = record.response as {
      choices: Array<{ message: { content: string }; finish_reason: string }>;
    };
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message.content.length).toBeLessThan(MB);
    expect(completion.choices[0]?.message.content.length).toBeGreaterThan(512 * 1024);
  });

  it('a stream within LOG_STREAM_LIMIT is logged whole, without the marker', async () => {
    const gw = await gateway({ LOG_STREAM_LIMIT: '1mb' });
    const stream = await gw
      .client()
      .chat.completions.create({ model: 'openai:gpt-4o-mini', messages: HI, stream: true })
      .withResponse();
    for await (const _chunk of stream.data) {
      // drain
    }
    const record = (await gw.requestLog()).find((r) => r.id === stream.response.headers.get('x-request-id'));
    expect(record).toBeDefined();
    expect(record).not.toHaveProperty('response_truncated');
    expect(record?.response).toMatchObject({
      choices: [{ message: { content: 'Hello from emulator (model gpt-4o-mini)' } }],
    });
  });
});
