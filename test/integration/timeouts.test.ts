// A slow or broken upstream gets a 502/504 (or, mid-stream, an OpenAI-style error event), never a
// hung client; a client that goes away cancels its upstream call. Timeouts are tiny so each case
// finishes in well under a second.
import { createServer } from 'node:net';
import { APIError, APIUserAbortError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failureOf } from '../support/api-error.js';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const OPENAI_KEY = 'sk-timeouts-openai-secret-0001';
const GROQ_KEY = 'sk-timeouts-groq-secret-0002';
const HI = [{ role: 'user' as const, content: 'Hi' }];
const FIRST_BYTE_MS = 200;
const IDLE_MS = 200;
const TOTAL_MS = 300;
// undici runs header and body timeouts on its coarse "fast timers" (about half a second per tick),
// so a 200 ms first-byte or idle timeout fires within roughly 0.5–1.2 s; bounds allow for that.
const UNDICI_TIMER_SLACK_MS = 1500;

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls until `check` holds, failing after `ms`. */
async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads a stream until it throws; returns the text received before and the error. */
async function readUntilError(
  stream: AsyncIterable<{ choices: Array<{ delta: { content?: string | null } }> }>,
) {
  let text = '';
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  } catch (error) {
    return { text, error };
  }
  return { text, error: undefined };
}

const processLogs: string[][] = [];

describe('slow and broken upstreams', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;
  let deadPort: number;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    deadPort = await closedPort();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        GROQ_API_KEY: GROQ_KEY,
        GROQ_BASE_URL: `http://127.0.0.1:${deadPort}/openai/v1`,
        TIMEOUT_FIRST_BYTE_MS: String(FIRST_BYTE_MS),
        TIMEOUT_IDLE_MS: String(IDLE_MS),
        RETRY_PER_TARGET: '0',
        RETRY_BACKOFF_MS: '1',
        RETRY_MAX_BACKOFF_MS: '5',
      },
    });
    processLogs.push(gw.processLog);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('an upstream that never answers: 504 upstream_timeout within bounded time', async () => {
    upstream.setDefault({ kind: 'stall' });
    const started = Date.now();
    const error = await failureOf(
      gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
    );
    expect(error.status).toBe(504);
    expect(error.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout', param: null });
    expect((error.error as { message: string }).message).toMatch(
      /openai: no response headers within the first-byte timeout/,
    );
    expect(error.headers?.get('x-request-id')).toMatch(/^req_/);
    expect(upstream.requests).toHaveLength(1);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(FIRST_BYTE_MS - 20);
    expect(elapsed).toBeLessThan(FIRST_BYTE_MS + UNDICI_TIMER_SLACK_MS);
    // The stalled upstream call is not left open.
    await eventually(() => upstream.abortedCount === 1);
    const record = (await gw.requestLog()).find((r) => r.id === error.requestID);
    expect(record).toMatchObject({ status: 504, provider: 'openai', error: { code: 'upstream_timeout' } });
    expect((record!.attempts as Array<{ outcome: string }>).map((a) => a.outcome)).toEqual(['timeout']);
  });

  it('a stream that never starts: 504 as a plain HTTP error', async () => {
    upstream.setDefault({ kind: 'stall' });
    const error = await failureOf(
      gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI, stream: true }),
    );
    expect(error.status).toBe(504);
    expect(error.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
  });

  it('a provider that refuses connections: 502 upstream_error', async () => {
    const error = await failureOf(
      gw.client().chat.completions.create({ model: 'groq:llama3-8b-8192', messages: HI }),
    );
    expect(error.status).toBe(502);
    expect(error.error).toMatchObject({ type: 'api_error', code: 'upstream_error', param: null });
    expect((error.error as { message: string }).message).toMatch(/groq.*connection failed/);
    expect(error.headers?.get('x-request-id')).toMatch(/^req_/);
  });

  it('a stream cut mid-way ends with an error event the SDK throws, never a hang', async () => {
    upstream.enqueue({ kind: 'cut-stream', afterChunks: 2 });
    const started = Date.now();
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: HI, stream: true })
      .withResponse();
    const { text, error } = await readUntilError(stream);
    expect(text).toBe('Hello');
    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.error).toMatchObject({ type: 'api_error', code: 'upstream_error', param: null });
    expect(apiError.message).toMatch(/openai: the stream broke off/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(upstream.requests).toHaveLength(1);

    const record = (await gw.requestLog()).find((r) => r.id === response.headers.get('x-request-id'));
    expect(record).toMatchObject({ status: 200, stream: true, error: { code: 'upstream_error' } });
  });

  it('a stream that stalls mid-way ends with a timeout error event after the idle timeout', async () => {
    upstream.enqueue({ kind: 'stall-stream', afterChunks: 2 });
    const started = Date.now();
    const stream = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: HI, stream: true });
    const { text, error } = await readUntilError(stream);
    expect(text).toBe('Hello');
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    expect((error as APIError).message).toMatch(/idle timeout/);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 20);
    expect(elapsed).toBeLessThan(IDLE_MS + UNDICI_TIMER_SLACK_MS);
    // The upstream connection is not left open.
    await eventually(() => upstream.abortedCount === 1);
  });

  it('keep-alive SSE comments from the upstream do no harm', async () => {
    upstream.enqueue({ kind: 'chat', content: 'one two three', keepAliveComments: 3, chunkDelayMs: 5 });
    const { data: stream, response } = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: HI, stream: true })
      .withResponse();
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('one two three');
    expect(finish).toBe('stop');
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const record = (await gw.requestLog()).find((r) => r.id === response.headers.get('x-request-id'));
    expect(record).toMatchObject({ status: 200, error: null });
  });

  it('no provider key appears in any process-log line', () => {
    const lines = processLogs.flat();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain(OPENAI_KEY);
      expect(line).not.toContain(GROQ_KEY);
      expect(line).not.toContain(CLIENT_KEY);
    }
  });
});

describe('the total timeout', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        TIMEOUT_TOTAL_MS: String(TOTAL_MS),
      },
    });
    processLogs.push(gw.processLog);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('a call that outlasts it: 504, not retried', async () => {
    upstream.setDefault({ kind: 'stall' });
    const started = Date.now();
    const error = await failureOf(
      gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
    );
    expect(error.status).toBe(504);
    expect(error.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    expect((error.error as { message: string }).message).toMatch(/total timeout of 300 ms/);
    expect(upstream.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(TOTAL_MS + 500);
    await eventually(() => upstream.abortedCount === 1);
  });

  it('a stream that outlasts it ends with a timeout error event', async () => {
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    upstream.enqueue({ kind: 'chat', content: words, chunkDelayMs: 50 });
    const started = Date.now();
    const stream = await gw
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: HI, stream: true });
    const { text, error } = await readUntilError(stream);
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(words.length);
    expect((error as APIError).error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    expect((error as APIError).message).toMatch(/total timeout/);
    expect(Date.now() - started).toBeLessThan(TOTAL_MS + 500);
  });
});

describe('a client that goes away cancels its upstream call', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    // Long timeouts: only the client's abort can end the upstream call here.
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        TIMEOUT_FIRST_BYTE_MS: '30000',
        TIMEOUT_IDLE_MS: '30000',
      },
    });
    processLogs.push(gw.processLog);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  for (const stream of [false, true]) {
    it(`SDK signal aborted while the upstream stalls (stream: ${stream})`, async () => {
      upstream.setDefault({ kind: 'stall' });
      const controller = new AbortController();
      const call = gw
        .client()
        .chat.completions.create(
          { model: 'gpt-4o-mini', messages: HI, stream },
          { signal: controller.signal },
        );
      await upstream.waitForRequests(1);
      controller.abort();
      await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
      await eventually(() => upstream.abortedCount === 1);
      expect(upstream.requests).toHaveLength(1);
      const records = await waitForRecords(gw, 1);
      expect(records.at(-1)).toMatchObject({ status: 499 });
    });
  }

  it('fetch aborted mid-stream, after the first chunk', async () => {
    upstream.setDefault({ kind: 'stall-stream', afterChunks: 1 });
    const controller = new AbortController();
    const response = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: HI, stream: true }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('chat.completion.chunk');
    controller.abort();
    await eventually(() => upstream.abortedCount === 1);
  });

  it('SDK stream aborted mid-stream', async () => {
    upstream.setDefault({ kind: 'stall-stream', afterChunks: 1 });
    const controller = new AbortController();
    const stream = await gw
      .client()
      .chat.completions.create(
        { model: 'gpt-4o-mini', messages: HI, stream: true },
        { signal: controller.signal },
      );
    for await (const _chunk of stream) controller.abort();
    await eventually(() => upstream.abortedCount === 1);
  });
});

/** Records are written when the exchange ends, which for an abort is a moment after the client left. */
async function waitForRecords(gw: TestGateway, count: number): Promise<Record<string, unknown>[]> {
  let records: Record<string, unknown>[] = [];
  const deadline = Date.now() + 3000;
  while (records.length < count && Date.now() < deadline) {
    records = await gw.requestLog();
    if (records.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return records;
}
