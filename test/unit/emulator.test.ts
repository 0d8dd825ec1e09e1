import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { KEEP_ALIVE_TEXT, ProviderEmulator, type RecordedRequest } from '../support/emulator.js';

let emu: ProviderEmulator;

beforeAll(async () => {
  emu = await ProviderEmulator.start();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.reset();
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function chat(body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${emu.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...body }),
    ...init,
  });
}

/** Splits an SSE body into its frames; good enough for the emulator's own single-line frames. */
function parseSse(text: string): { data: string[]; comments: string[]; frames: string[] } {
  const frames = text.split('\n\n').filter((frame) => frame !== '');
  const data: string[] = [];
  const comments: string[] = [];
  for (const frame of frames) {
    for (const line of frame.split('\n')) {
      if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
      else if (line.startsWith(':')) comments.push(line);
    }
  }
  return { data, comments, frames };
}

interface Chunk {
  id: string;
  object: string;
  model: string;
  choices: Array<{
    index: number;
    finish_reason: string | null;
    delta: {
      role?: string;
      content?: string | null;
      tool_calls?: Array<{
        index: number;
        id?: string;
        type?: string;
        function: { name?: string; arguments: string };
      }>;
    };
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

async function streamChunks(res: Response): Promise<{ chunks: Chunk[]; data: string[] }> {
  const { data } = parseSse(await res.text());
  const chunks = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Chunk);
  return { chunks, data };
}

describe('ProviderEmulator (OpenAI protocol)', () => {
  it('answers a non-stream chat with the OpenAI shape', async () => {
    const res = await chat({});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('x-request-id')).toMatch(/^req_emu_/);
    const body: unknown = await res.json();
    expect(body).toEqual({
      id: 'chatcmpl-emu-1',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-test',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello from emulator (model gpt-test)', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
  });

  it('streams text chunks that concatenate to the content and end with [DONE]', async () => {
    const res = await chat({ stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { chunks, data } = await streamChunks(res);
    expect(data.at(-1)).toBe('[DONE]');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-test')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const contentChunks = chunks.filter(
      (c) => typeof c.choices[0]?.delta.content === 'string' && c.choices[0].delta.content !== '',
    );
    expect(contentChunks.length).toBeGreaterThanOrEqual(3);
    expect(contentChunks.map((c) => c.choices[0]?.delta.content).join('')).toBe(
      'Hello from emulator (model gpt-test)',
    );
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    // No usage unless asked for.
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
  });

  it('adds a usage chunk with empty choices when include_usage is set', async () => {
    emu.enqueue({ kind: 'chat', content: 'a b c', usage: { prompt_tokens: 3, completion_tokens: 4 } });
    const res = await chat({ stream: true, stream_options: { include_usage: true } });
    const { chunks, data } = await streamChunks(res);
    expect(data.at(-1)).toBe('[DONE]');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    // Every other chunk carries usage: null, as OpenAI does.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('streams two parallel tool calls with indices and concatenable argument fragments', async () => {
    const calls = [
      { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' },
      { id: 'call_custom', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
    ];
    emu.enqueue({ kind: 'chat', toolCalls: calls });
    const { chunks } = await streamChunks(await chat({ stream: true }));
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: null });

    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    for (const [index, call] of calls.entries()) {
      const mine = fragments.filter((f) => f.index === index);
      const [head, ...rest] = mine;
      expect(head).toMatchObject({ index, type: 'function', function: { name: call.name, arguments: '' } });
      expect(head?.id).toEqual(call.id ?? expect.stringMatching(/^call_emu_\d+$/));
      expect(rest.length).toBeGreaterThanOrEqual(2);
      for (const fragment of rest) expect(Object.keys(fragment).sort()).toEqual(['function', 'index']);
      expect(rest.map((f) => f.function.arguments).join('')).toBe(call.arguments);
    }
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers non-stream tool calls with null content', async () => {
    emu.enqueue({ kind: 'chat', toolCalls: [{ name: 'f', arguments: '{}' }] });
    const body: unknown = await (await chat({})).json();
    expect(body).toMatchObject({
      choices: [
        {
          message: {
            content: null,
            tool_calls: [
              {
                id: expect.stringMatching(/^call_emu_/),
                type: 'function',
                function: { name: 'f', arguments: '{}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
    });
  });

  it('returns scripted errors with the default OpenAI error shape or a given body', async () => {
    emu.enqueue(
      { kind: 'error', status: 429, headers: { 'retry-after': '1' } },
      { kind: 'error', status: 400, body: { error: { message: 'bad', type: 'x', param: 'p', code: 'c' } } },
    );
    const first = await chat({});
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('1');
    const firstBody: unknown = await first.json();
    expect(firstBody).toEqual({
      error: { message: expect.stringContaining('429'), type: expect.any(String), param: null, code: null },
    });
    const second = await chat({});
    expect(second.status).toBe(400);
    expect(await second.json()).toEqual({ error: { message: 'bad', type: 'x', param: 'p', code: 'c' } });
  });

  it('writes keep-alive comments before the first data event and between events', async () => {
    emu.enqueue({ kind: 'chat', content: 'one two', keepAliveComments: 3 });
    const { frames, data } = parseSse(await (await chat({ stream: true })).text());
    const comment = `: ${KEEP_ALIVE_TEXT}`;
    expect(frames.slice(0, 3)).toEqual([comment, comment, comment]);
    expect(frames[3]?.startsWith('data: ')).toBe(true);
    // Exactly one comment between consecutive data events.
    const rest = frames.slice(3);
    for (let i = 0; i < rest.length; i++) expect(rest[i]?.startsWith('data: ')).toBe(i % 2 === 0);
    expect(data.at(-1)).toBe('[DONE]');
  });

  it('cut-stream delivers afterChunks events, then the body read rejects', async () => {
    emu.enqueue({ kind: 'cut-stream', afterChunks: 2 });
    const res = await chat({ stream: true });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    let received = '';
    const readAll = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += new TextDecoder().decode(value);
      }
    };
    await expect(readAll()).rejects.toThrow();
    // The chunks before the cut did arrive, and nothing after them.
    expect(parseSse(received).data).toHaveLength(2);
    expect(emu.abortedCount).toBe(0);
  });

  it('stall-stream sends the first chunk then goes quiet', async () => {
    emu.enqueue({ kind: 'stall-stream' });
    const controller = new AbortController();
    const res = await chat({ stream: true }, { signal: controller.signal });
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"role":"assistant"');
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
    await vi.waitFor(() => expect(emu.abortedCount).toBe(1));
  });

  it('counts a stalled request whose client aborts', async () => {
    emu.enqueue({ kind: 'stall' });
    const controller = new AbortController();
    const pending = chat({}, { signal: controller.signal });
    await emu.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(emu.abortedCount).toBe(1));
  });

  it('reset destroys the socket without a response', async () => {
    emu.enqueue({ kind: 'reset' });
    await expect(chat({})).rejects.toThrow();
    expect(emu.requests).toHaveLength(1);
  });

  it('raw writes the exact status, headers and body', async () => {
    emu.enqueue({
      kind: 'raw',
      status: 502,
      headers: { 'content-type': 'text/html' },
      body: '<html>bad gateway</html>',
    });
    const res = await chat({});
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toBe('<html>bad gateway</html>');
  });

  it('applies queued behaviours in order, then onRequest, then the default', async () => {
    emu.enqueue({ kind: 'error', status: 500 }, { kind: 'chat', content: 'second' });
    emu.setDefault({ kind: 'error', status: 503 });
    expect((await chat({})).status).toBe(500);
    expect(await (await chat({})).json()).toMatchObject({ choices: [{ message: { content: 'second' } }] });
    expect((await chat({})).status).toBe(503);
    emu.onRequest((req) =>
      isRecord(req.body) && req.body.model === 'special' ? { kind: 'error', status: 418 } : undefined,
    );
    expect((await chat({ model: 'special' })).status).toBe(418);
    expect((await chat({})).status).toBe(503);
  });

  it('records method, path, headers and parsed body', async () => {
    await (
      await fetch(`${emu.url}/api/v1/chat/completions?x=1`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-abc', 'X-Title': 'test' },
        body: JSON.stringify({ model: 'm', messages: [] }),
      })
    ).json();
    await (await fetch(`${emu.url}/v1/embeddings`, { method: 'POST', body: 'not json' })).text();
    const [first, second] = await emu.waitForRequests(2);
    expect(first).toMatchObject<Partial<RecordedRequest>>({
      method: 'POST',
      path: '/api/v1/chat/completions?x=1',
      body: { model: 'm', messages: [] },
      rawBody: '{"model":"m","messages":[]}',
    });
    expect(first?.headers.authorization).toBe('Bearer sk-abc');
    expect(first?.headers['x-title']).toBe('test');
    expect(first?.receivedAt).toBeGreaterThan(0);
    expect(second?.body).toBe('not json');
  });

  it('answers embeddings for a string or an array input', async () => {
    const post = (input: unknown): Promise<Response> =>
      fetch(`${emu.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'emb', input }) });
    const one: unknown = await (await post('hello world')).json();
    expect(one).toMatchObject({
      object: 'list',
      model: 'emb',
      data: [{ object: 'embedding', index: 0, embedding: expect.any(Array) }],
      usage: { prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    const many: unknown = await (await post(['a', 'b', 'c'])).json();
    expect(
      isRecord(many) && Array.isArray(many.data) ? many.data.map((d: { index: number }) => d.index) : [],
    ).toEqual([0, 1, 2]);
  });

  it('lists models on GET even when POSTs are scripted to fail, and 404s unknown paths', async () => {
    emu.setDefault({ kind: 'error', status: 500 });
    const res = await fetch(`${emu.url}/v1/models`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      object: 'list',
      data: [{ object: 'model', owned_by: 'emulator' }, expect.anything()],
    });
    const missing = await fetch(`${emu.url}/v1/nothing-here`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: { message: expect.any(String), param: null, code: null },
    });
  });

  it('waitForRequests times out with a clear error', async () => {
    await expect(emu.waitForRequests(1, 50)).rejects.toThrow(/wanted 1 requests, got 0/);
  });

  it('honours delayMs and chunkDelayMs', async () => {
    emu.enqueue({ kind: 'chat', content: 'a b c', delayMs: 60, chunkDelayMs: 10 });
    const started = Date.now();
    const { data } = parseSse(await (await chat({ stream: true })).text());
    expect(data.at(-1)).toBe('[DONE]');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});

describe('ProviderEmulator.close', () => {
  it('resolves with stalled requests and streams open, and ends them', async () => {
    const local = await ProviderEmulator.start();
    local.enqueue({ kind: 'stall' }, { kind: 'stall-stream' }, { kind: 'chat', delayMs: 60_000 });
    const post = (stream: boolean): Promise<Response> =>
      fetch(`${local.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', stream }),
      });
    // Outcomes are captured at once so the expected rejections are never "unhandled".
    const outcome = (promise: Promise<unknown>): Promise<unknown> =>
      promise.then(
        () => 'settled',
        (error: unknown) => error,
      );
    const stalled = outcome(post(false));
    const reader = (await post(true)).body?.getReader();
    await reader?.read(); // the stall-stream's first chunk
    const delayed = outcome(post(false));
    const waiting = outcome(local.waitForRequests(10, 60_000));
    await local.waitForRequests(3);

    const started = Date.now();
    await local.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await stalled).toBeInstanceOf(Error);
    expect(await delayed).toBeInstanceOf(Error);
    expect(await outcome(reader?.read() ?? Promise.resolve())).toBeInstanceOf(Error);
    expect(await waiting).toEqual(new Error('emulator: closed'));
    // Ending stalls on close is not a client abort.
    expect(local.abortedCount).toBe(0);
    await local.close(); // idempotent
  });
});
