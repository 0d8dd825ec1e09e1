// Errors in OpenAI's shape: bad input gets a clear 4xx naming the problem, routing failures a 404
// with a hint, an upstream's own 4xx comes back with its status and message (not retried), and
// upstream failures become 429/502/501. Client-side behaviour is observed through the official SDK
// wherever it can send the request, raw fetch otherwise.
import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderEmulator } from '../support/emulator.js';
import { CLIENT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

const OPENAI_KEY = 'sk-errors-openai-secret-0001';
const IDEOGRAM_KEY = 'ideo-errors-secret-0002';
const SECRETS = [OPENAI_KEY, IDEOGRAM_KEY, CLIENT_KEY];
const HI = [{ role: 'user' as const, content: 'Hi' }];

/** What a client saw of a failed call, from the SDK or from fetch. */
interface Observed {
  status: number;
  headers: Headers;
  body: unknown;
}

interface ExpectedError {
  type?: string;
  code?: string | null;
  param?: string | null;
  message?: RegExp;
}

/** Every error body seen in this file, checked for secrets at the end. */
const seenBodies: string[] = [];
/** Every gateway's process log, checked for secrets at the end (arrays outlive stop()). */
const processLogs: string[][] = [];

async function sdkFailure(call: Promise<unknown>): Promise<Observed> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof APIError) || error.status === undefined || error.headers === undefined)
      throw error;
    return { status: error.status, headers: error.headers, body: { error: error.error } };
  }
  throw new Error('expected the call to fail');
}

async function fetchFailure(response: Response): Promise<Observed> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

/** The OpenAI error shape with the given status, plus the gateway's x-request-id. */
function expectOpenAIError(observed: Observed, status: number, expected: ExpectedError = {}) {
  seenBodies.push(JSON.stringify(observed.body));
  expect(observed.status).toBe(status);
  expect(observed.headers.get('x-request-id')).toMatch(/^req_\w+$/);
  const error = (observed.body as { error: Record<string, unknown> }).error;
  expect(error).toEqual(
    expect.objectContaining({
      message: expect.any(String),
      type: expect.any(String),
      param:
        expected.param === undefined
          ? expect.toSatisfy((v) => v === null || typeof v === 'string')
          : expected.param,
      code:
        expected.code === undefined
          ? expect.toSatisfy((v) => v === null || typeof v === 'string')
          : expected.code,
    }),
  );
  if (expected.type !== undefined) expect(error.type).toBe(expected.type);
  if (expected.message !== undefined) expect(error.message).toMatch(expected.message);
  return error as { message: string; type: string; param: string | null; code: string | null };
}

function post(gw: TestGateway, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('errors', () => {
  let upstream: ProviderEmulator;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        BODY_LIMIT: '2kb',
        RETRY_MAX_ATTEMPTS: '3',
        RETRY_PER_TARGET: '1',
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

  describe('bad input: 400 naming the problem, nothing sent upstream', () => {
    afterEach(() => expect(upstream.requests).toHaveLength(0));

    it('bad JSON', async () => {
      const observed = await fetchFailure(await post(gw, '{"model": "gpt-4o-mini", "messages": ['));
      expectOpenAIError(observed, 400, {
        type: 'invalid_request_error',
        code: 'invalid_request',
        message: /JSON/,
      });
    });

    it('an empty body', async () => {
      const observed = await fetchFailure(await post(gw, ''));
      expectOpenAIError(observed, 400, { type: 'invalid_request_error', message: /empty/ });
    });

    it('a JSON body that is not an object', async () => {
      const observed = await fetchFailure(await post(gw, '[1, 2]'));
      expectOpenAIError(observed, 400, { type: 'invalid_request_error', message: /must be a JSON object/ });
    });

    it('missing messages', async () => {
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'gpt-4o-mini' } as never),
      );
      expectOpenAIError(observed, 400, {
        type: 'invalid_request_error',
        param: 'messages',
        message: /messages/,
      });
    });

    it('messages: []', async () => {
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
      );
      expectOpenAIError(observed, 400, {
        type: 'invalid_request_error',
        param: 'messages',
        message: /messages/,
      });
    });

    it('a message with a bad role', async () => {
      const observed = await sdkFailure(
        gw.client().chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'wizard', content: 'Hi' } as never],
        }),
      );
      expectOpenAIError(observed, 400, {
        type: 'invalid_request_error',
        param: 'messages[0].role',
        message: /messages\[0\]\.role/,
      });
    });

    it('temperature: "hot" is refused, not coerced', async () => {
      const observed = await sdkFailure(
        gw
          .client()
          .chat.completions.create({ model: 'gpt-4o-mini', messages: HI, temperature: 'hot' as never }),
      );
      expectOpenAIError(observed, 400, {
        type: 'invalid_request_error',
        param: 'temperature',
        message: /temperature/,
      });
    });

    it('temperature: "0.5" (a numeric string) is refused too', async () => {
      const observed = await sdkFailure(
        gw
          .client()
          .chat.completions.create({ model: 'gpt-4o-mini', messages: HI, temperature: '0.5' as never }),
      );
      expectOpenAIError(observed, 400, { param: 'temperature' });
    });

    it('max_tokens: 0', async () => {
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI, max_tokens: 0 }),
      );
      expectOpenAIError(observed, 400, {
        type: 'invalid_request_error',
        param: 'max_tokens',
        message: /max_tokens/,
      });
    });

    it('a tool message without tool_call_id', async () => {
      const observed = await sdkFailure(
        gw.client().chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [...HI, { role: 'tool', content: '42' } as never],
        }),
      );
      expectOpenAIError(observed, 400, {
        type: 'invalid_request_error',
        param: 'messages[1].tool_call_id',
        message: /tool_call_id/,
      });
    });

    it('a body over BODY_LIMIT: 413', async () => {
      const big = JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x'.repeat(4096) }],
      });
      const observed = await fetchFailure(await post(gw, big));
      expectOpenAIError(observed, 413, { type: 'invalid_request_error', message: /body/ });
    });

    it('a body that is not JSON by content type: 415', async () => {
      const observed = await fetchFailure(await post(gw, 'Hi there', { 'content-type': 'text/plain' }));
      expectOpenAIError(observed, 415, { type: 'invalid_request_error', message: /application\/json/ });
    });

    it('a body without any content type: 415', async () => {
      const response = await fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}` },
        body: new TextEncoder().encode(JSON.stringify({ model: 'gpt-4o-mini', messages: HI })),
      });
      expectOpenAIError(await fetchFailure(response), 415, { message: /application\/json/ });
    });

    it('a form-encoded body: 415', async () => {
      const observed = await fetchFailure(
        await post(gw, 'model=gpt-4o-mini', { 'content-type': 'application/x-www-form-urlencoded' }),
      );
      expectOpenAIError(observed, 415, { message: /application\/json/ });
    });
  });

  describe('routing', () => {
    it('application/json with a charset parameter is accepted', async () => {
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: HI });
      const response = await post(gw, body, { 'content-type': 'application/json; charset=utf-8' });
      expect(response.status).toBe(200);
      await response.text();
      expect(upstream.requests).toHaveLength(1);
    });

    it('an unknown model with no default provider: 404 model_not_found with a hint', async () => {
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'my-own-model', messages: HI }),
      );
      const error = expectOpenAIError(observed, 404, {
        type: 'invalid_request_error',
        code: 'model_not_found',
        param: 'model',
        message: /my-own-model/,
      });
      expect(error.message).toMatch(/model_mappings/);
      expect(upstream.requests).toHaveLength(0);
    });

    it('groq:x when groq is not configured: 404 naming GROQ_API_KEY', async () => {
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'groq:x', messages: HI }),
      );
      expectOpenAIError(observed, 404, { code: 'model_not_found', param: 'model', message: /GROQ_API_KEY/ });
    });

    it('an unknown route: 404 in OpenAI shape', async () => {
      const response = await fetch(`${gw.baseURL}/no/such/route`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expectOpenAIError(await fetchFailure(response), 404, {
        type: 'invalid_request_error',
        message: /\/v1\/no\/such\/route/,
      });
    });

    it('GET on the POST route: 405 in OpenAI shape, naming the method', async () => {
      // OpenAI answers 405 "Invalid method for URL (GET /v1/chat/completions)".
      const response = await fetch(`${gw.baseURL}/chat/completions`, {
        headers: { authorization: `Bearer ${CLIENT_KEY}` },
      });
      const error = expectOpenAIError(await fetchFailure(response), 405, { type: 'invalid_request_error' });
      expect(error.message).toMatch(/GET/);
      expect(error.message).toMatch(/POST/);
      expect(response.headers.get('allow')).toBe('POST');
    });

    it("the client's own x-request-id comes back on an error", async () => {
      const response = await post(gw, '{', { 'x-request-id': 'client-trace-42' });
      expect(response.status).toBe(400);
      expect(response.headers.get('x-request-id')).toBe('client-trace-42');
      seenBodies.push(await response.text());
    });

    it('a wrong client key: 401 invalid_api_key', async () => {
      const observed = await sdkFailure(
        gw.client('not-a-key').chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
      );
      expectOpenAIError(observed, 401, { code: 'invalid_api_key' });
    });
  });

  describe('upstream 4xx: passed back with its status and body as they came, the provider in a header, not retried', () => {
    for (const status of [400, 404, 422]) {
      it(`upstream ${status}`, async () => {
        const message = `emulator says no (${status}): the parameter 'foo' is bad`;
        upstream.enqueue({
          kind: 'error',
          status,
          body: { error: { message, type: 'invalid_request_error', param: 'foo', code: 'bad_foo' } },
        });
        const observed = await sdkFailure(
          gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
        );
        const error = expectOpenAIError(observed, status, {
          type: 'invalid_request_error',
          code: 'bad_foo',
          param: 'foo',
        });
        // An OpenAI-protocol provider's error is relayed as it came: no prefix; the header names it.
        expect(error.message).toBe(message);
        expect(observed.headers.get('x-ai-proxy-provider')).toBe('openai');
        expect(upstream.requests).toHaveLength(1);
      });
    }

    it('a streamed request refused upstream gets a plain HTTP error, before any stream starts', async () => {
      upstream.enqueue({ kind: 'error', status: 400 });
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI, stream: true }),
      );
      expect(observed.headers.get('content-type')).toMatch(/^application\/json/);
      expectOpenAIError(observed, 400, { type: 'invalid_request_error', message: /^emulator: / });
      expect(observed.headers.get('x-ai-proxy-provider')).toBe('openai');
      expect(upstream.requests).toHaveLength(1);
    });

    it('an upstream 4xx with a plain-text body keeps the text', async () => {
      upstream.enqueue({ kind: 'error', status: 400, body: 'model field is weird' });
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
      );
      const error = expectOpenAIError(observed, 400, { type: 'invalid_request_error' });
      expect(error.message).toMatch(/^openai: .*model field is weird/);
      expect(upstream.requests).toHaveLength(1);
    });
  });

  describe('upstream failures', () => {
    it('all attempts 500: 502 upstream_error, bounded retries', async () => {
      upstream.setDefault({ kind: 'error', status: 500 });
      const observed = await sdkFailure(
        gw.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
      );
      const error = expectOpenAIError(observed, 502, { type: 'api_error', code: 'upstream_error' });
      expect(error.message).toMatch(/openai/);
      expect(error.message).toMatch(/500/);
      // One key, RETRY_PER_TARGET=1: the first try and one retry.
      expect(upstream.requests).toHaveLength(2);
    });
  });

  describe('state-changing upstream errors (each on a fresh gateway)', () => {
    let own: TestGateway | undefined;
    afterAll(async () => {
      await own?.stop();
    });
    beforeEach(async () => {
      await own?.stop();
      own = await startTestGateway({
        env: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `${upstream.url}/v1`, RETRY_BACKOFF_MS: '1' },
      });
      processLogs.push(own.processLog);
    });

    it('upstream 401 with a single key is passed back, without the key it echoed', async () => {
      // Some providers echo the key they refused; the gateway must never pass a provider key on.
      const message = `Incorrect API key provided: ${OPENAI_KEY}. You can find your API key at https://example.com.`;
      upstream.enqueue({
        kind: 'error',
        status: 401,
        body: { error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
      });
      const observed = await sdkFailure(
        own!.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
      );
      const error = expectOpenAIError(observed, 401, { code: 'invalid_api_key' });
      expect(error.message).toMatch(/^Incorrect API key provided/);
      expect(error.message).not.toContain(OPENAI_KEY);
      expect(upstream.requests).toHaveLength(1);
    });

    it('upstream 429 with retry-after: 7 on the only key: 429 rate_limit_exceeded with Retry-After', async () => {
      upstream.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '7' } });
      const observed = await sdkFailure(
        own!.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
      );
      expectOpenAIError(observed, 429, {
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        message: /openai/,
      });
      expect(observed.headers.get('retry-after')).toBe('7');
      expect(upstream.requests).toHaveLength(1);

      // The key now cools down: the next call does not hammer the upstream and says when to retry.
      const again = await sdkFailure(
        own!.client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI }),
      );
      expectOpenAIError(again, 429, { type: 'rate_limit_error', code: 'rate_limit_exceeded' });
      expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(7);
      expect(upstream.requests).toHaveLength(1);
    });
  });

  describe('protocols without a translator', () => {
    let own: TestGateway;
    beforeAll(async () => {
      own = await startTestGateway({
        // Ideogram only generates images: it has no chat translator.
        env: { IDEOGRAM_API_KEY: IDEOGRAM_KEY, IDEOGRAM_BASE_URL: upstream.url },
      });
      processLogs.push(own.processLog);
    });
    afterAll(async () => {
      await own?.stop();
    });

    it('a chat request for an image-only provider: a clear 501 naming it', async () => {
      const observed = await sdkFailure(
        own.client().chat.completions.create({ model: 'ideogram:V_3', messages: HI }),
      );
      const error = expectOpenAIError(observed, 501, { type: 'api_error', code: 'unsupported_protocol' });
      expect(error.message).toMatch(/ideogram/);
      expect(error.message).toContain('cannot serve chat completions');
      expect(upstream.requests).toHaveLength(0);
    });
  });

  it('no secret appears in any error body or process-log line', () => {
    expect(seenBodies.length).toBeGreaterThan(20);
    const lines = processLogs.flat();
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of SECRETS) {
      for (const body of seenBodies) expect(body).not.toContain(secret);
      for (const line of lines) expect(line).not.toContain(secret);
    }
  });
});
