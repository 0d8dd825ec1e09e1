// Broken answers are failures, not successes (issue 12 §3): a 2xx whose body is HTML or invalid
// JSON, a stream that ends without its protocol's end ([DONE] or a finish reason; message_stop;
// finishReason), a half-written last event. Before anything reached the client such an answer is
// a retryable failure: the next target answers, else a 502 names the problem. After the first byte
// the stream ends with an OpenAI-style error event. Two emulators, one per provider.
import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failureOf } from '../support/api-error.js';
import { type Behaviour, ProviderEmulator } from '../support/emulator.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const HI = [{ role: 'user' as const, content: 'Hi' }];
const GROQ_TEXT = 'Hello from emulator (model llama3-8b-8192)';
const CONFIG = `model_mappings:
  fast: ["openai:gpt-4o-mini", "groq:llama3-8b-8192"]
  claude-fast: ["anthropic:claude-3-5-haiku-latest", "groq:llama3-8b-8192"]
  gemini-fast: ["gemini:gemini-2.5-flash", "groq:llama3-8b-8192"]
`;

const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-broken',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  })}\n\n`;

function raw(body: string, contentType = 'text/event-stream'): Behaviour {
  return { kind: 'raw', status: 200, headers: { 'content-type': contentType }, body };
}

const HTML = '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>';

interface Attempt {
  provider: string;
  status: number | null;
  outcome: string;
  error?: string;
}

describe('broken answers', () => {
  let openai: ProviderEmulator;
  let groq: ProviderEmulator;
  let gw: TestGateway;

  async function recordOf(requestId: string | null | undefined) {
    const record = (await gw.requestLog()).find((r) => r.id === requestId);
    expect(record).toBeDefined();
    return record as Record<string, unknown> & { attempts: Attempt[] };
  }

  /** Reads a stream to its end; the text, the finish reason and the error that ended it, if any. */
  async function drain(
    stream: AsyncIterable<{
      choices: Array<{ delta: { content?: string | null }; finish_reason: string | null }>;
    }>,
  ) {
    let text = '';
    let finish: string | null = null;
    let error: unknown;
    try {
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? '';
        finish = c.choices[0]?.finish_reason ?? finish;
      }
    } catch (caught) {
      error = caught;
    }
    return { text, finish, error };
  }

  beforeAll(async () => {
    openai = await ProviderEmulator.start();
    groq = await ProviderEmulator.start();
    gw = await startTestGateway({
      env: {
        OPENAI_API_KEY: 'sk-broken-openai-0001',
        OPENAI_BASE_URL: `${openai.url}/v1`,
        // The same emulator speaks Anthropic and Gemini on their own paths.
        ANTHROPIC_API_KEY: 'sk-ant-broken-0002',
        ANTHROPIC_BASE_URL: openai.url,
        GEMINI_API_KEY: 'gemini-broken-0003',
        GEMINI_BASE_URL: `${openai.url}/v1beta`,
        GROQ_API_KEY: 'sk-broken-groq-0004',
        GROQ_BASE_URL: `${groq.url}/openai/v1`,
        RETRY_PER_TARGET: '0',
        RETRY_BACKOFF_MS: '1',
      },
      files: { 'config.yml': CONFIG },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await openai?.close();
    await groq?.close();
  });
  beforeEach(() => {
    openai.reset();
    groq.reset();
  });
  afterEach(() => {
    for (const line of gw.processLog) expect(line).not.toContain('sk-broken-openai-0001');
  });

  describe('non-stream: a 200 that is not JSON falls back, else is a 502 naming it', () => {
    for (const [name, behaviour] of [
      ['an HTML page', raw(HTML, 'text/html')],
      [
        'cut-off JSON',
        raw('{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,', 'application/json'),
      ],
      ['invalid JSON', raw('{"id": chatcmpl-x}', 'application/json')],
      ['an empty body', raw('', 'application/json')],
    ] as const) {
      it(`${name}: the next target answers`, async () => {
        openai.enqueue(behaviour);
        const { data, response } = await gw
          .client()
          .chat.completions.create({ model: 'fast', messages: HI })
          .withResponse();
        expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
        expect(data.choices[0]?.message.content).toBe(GROQ_TEXT);
        const record = await recordOf(response.headers.get('x-request-id'));
        expect(record.attempts.map((a) => [a.provider, a.status, a.outcome])).toEqual([
          ['openai', 200, 'invalid'],
          ['groq', 200, 'ok'],
        ]);
        expect(record.attempts[0]?.error).toMatch(/not a JSON object/);
      });
    }

    it('no target left: a 502 that names the problem', async () => {
      openai.enqueue(raw(HTML, 'text/html'));
      const error = await failureOf(
        gw.client().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: HI }),
      );
      expect(error.status).toBe(502);
      expect(error.error).toMatchObject({ code: 'upstream_error', type: 'api_error' });
      const message = (error.error as { message: string }).message;
      expect(message).toContain('openai: answered 200 with a body that is not a JSON object');
      expect(message).toContain('content-type text/html');
      // The page itself is not echoed.
      expect(message).not.toContain('Bad Gateway');
    });

    it('a translated provider (Anthropic) answering HTML falls back too', async () => {
      openai.enqueue(raw(HTML, 'text/html'));
      const { response } = await gw
        .client()
        .chat.completions.create({ model: 'claude-fast', messages: HI })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
    });
  });

  describe('stream, before the first byte: a broken stream falls back', () => {
    const role = chunk({ role: 'assistant', content: '' });
    for (const [name, model, behaviour] of [
      ['ends without [DONE] or a finish reason', 'fast', raw(role + chunk({ content: 'Hel' }))],
      [
        'ends in a half-written event',
        'fast',
        raw(`${role}data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":"Hel`),
      ],
      ['is an HTML page', 'fast', raw(HTML, 'text/html')],
      [
        'is a JSON document',
        'fast',
        raw('{"id":"chatcmpl-x","object":"chat.completion","choices":[]}', 'application/json'),
      ],
      ['has no body at all', 'fast', raw('')],
      ['holds only a keep-alive comment', 'fast', raw(': OPENROUTER PROCESSING\n\n')],
      [
        'is an Anthropic stream without message_stop',
        'claude-fast',
        raw(
          'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_x","model":"claude-3-5-haiku-latest","usage":{"input_tokens":1,"output_tokens":1}}}\n\n' +
            'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}\n\n',
        ),
      ],
      [
        'is a Gemini stream without a finishReason',
        'gemini-fast',
        raw('data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}]}\r\n\r\n'),
      ],
    ] as const) {
      it(`the first target's stream ${name}: the next target answers`, async () => {
        openai.enqueue(behaviour);
        const { data: stream, response } = await gw
          .client()
          .chat.completions.create({ model, messages: HI, stream: true })
          .withResponse();
        expect(response.headers.get('x-ai-proxy-provider')).toBe('groq');
        const { text, finish, error } = await drain(stream);
        expect(error).toBeUndefined();
        expect(text).toBe(GROQ_TEXT);
        expect(finish).toBe('stop');
        const record = await recordOf(response.headers.get('x-request-id'));
        expect(record).toMatchObject({ status: 200, provider: 'groq', error: null });
        expect(record.attempts.map((a) => [a.status, a.outcome])).toEqual([
          [200, 'invalid'],
          [200, 'ok'],
        ]);
      });
    }

    it('no target left: a 502 that names the problem', async () => {
      openai.enqueue(raw(role + chunk({ content: 'Hel' })));
      const error = await failureOf(
        gw.client().chat.completions.create({ model: 'openai:gpt-4o-mini', messages: HI, stream: true }),
      );
      expect(error.status).toBe(502);
      expect((error.error as { message: string }).message).toContain(
        'openai: the stream ended without [DONE] or a finish reason',
      );
    });

    it('a stream that ends with a finish reason but no [DONE] is whole', async () => {
      openai.enqueue(raw(role + chunk({ content: 'Hi there' }) + chunk({}, 'stop')));
      const { data: stream, response } = await gw
        .client()
        .chat.completions.create({ model: 'fast', messages: HI, stream: true })
        .withResponse();
      expect(response.headers.get('x-ai-proxy-provider')).toBe('openai');
      const { text, finish, error } = await drain(stream);
      expect(error).toBeUndefined();
      expect([text, finish]).toEqual(['Hi there', 'stop']);
      expect(groq.requests).toHaveLength(0);
    });
  });

  describe('stream, after the first byte: an error event ends it', () => {
    for (const [name, model, behaviour, problem] of [
      [
        'no [DONE] and no finish reason',
        'fast',
        { kind: 'chat', chunkDelayMs: 5, dropLastEvents: 2 },
        'openai: the stream ended without [DONE] or a finish reason',
      ],
      [
        'a half-written last event',
        'fast',
        { kind: 'chat', chunkDelayMs: 5, dropLastEvents: 2, appendRaw: 'data: {"id":"chatcmpl-x","choi' },
        'openai: the stream ended in the middle of an event',
      ],
      [
        'an Anthropic stream without message_stop',
        'claude-fast',
        { kind: 'chat', chunkDelayMs: 5, dropLastEvents: 1 },
        'anthropic: the stream ended before message_stop',
      ],
      [
        'a Gemini stream without its finishReason',
        'gemini-fast',
        { kind: 'chat', chunkDelayMs: 5, dropLastEvents: 1 },
        'gemini: the stream ended without a finishReason',
      ],
    ] as const) {
      it(`${name}: the client's stream ends with an error event; no fallback`, async () => {
        openai.enqueue(behaviour);
        const { data: stream, response } = await gw
          .client()
          .chat.completions.create({ model, messages: HI, stream: true })
          .withResponse();
        expect(response.headers.get('x-ai-proxy-provider')).not.toBe('groq');
        const { text, error } = await drain(stream);
        expect(text).not.toBe('');
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).message).toContain(problem);
        expect(groq.requests).toHaveLength(0);
        const record = await recordOf(response.headers.get('x-request-id'));
        expect(record.error).toMatchObject({ message: problem, code: 'upstream_error' });
      });
    }

    it('a stream missing only its [DONE] after the finish reason is whole', async () => {
      openai.enqueue({ kind: 'chat', chunkDelayMs: 5, dropLastEvents: 1 });
      const stream = await gw
        .client()
        .chat.completions.create({ model: 'openai:gpt-4o-mini', messages: HI, stream: true });
      const { text, finish, error } = await drain(stream);
      expect(error).toBeUndefined();
      expect(text).toBe('Hello from emulator (model gpt-4o-mini)');
      expect(finish).toBe('stop');
    });
  });
});
