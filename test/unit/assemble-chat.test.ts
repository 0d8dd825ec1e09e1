import { describe, expect, it } from 'vitest';
import { assembleChatStream } from '../../src/streaming/assemble-chat.js';

const HEAD = { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o' };

function event(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

function chunk(choices: unknown[], extra: Record<string, unknown> = {}): string {
  return event({ ...HEAD, choices, ...extra });
}

function delta(value: Record<string, unknown>, finishReason: string | null = null, index = 0): unknown {
  return { index, delta: value, logprobs: null, finish_reason: finishReason };
}

function choicesOf(result: ReturnType<typeof assembleChatStream>): Array<Record<string, unknown>> {
  return (result.completion?.choices ?? []) as Array<Record<string, unknown>>;
}

/** The SSE text cut into pieces of `size` bytes, as a socket might deliver it. */
function pieces(text: string, size: number): Buffer[] {
  const raw = Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < raw.length; i += size) out.push(raw.subarray(i, i + size));
  return out;
}

describe('assembleChatStream', () => {
  it('joins content deltas into one message with the finish reason and usage', () => {
    const sse = [
      chunk([delta({ role: 'assistant', content: '' })], { usage: null }),
      chunk([delta({ content: 'Hello' })], { usage: null }),
      chunk([delta({ content: ', Wörld' })], { usage: null }),
      chunk([delta({ content: ' 🚀' })], { usage: null }),
      chunk([delta({}, 'stop')], { usage: null }),
      chunk([], { usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 } }),
      event('[DONE]'),
    ].join('');
    for (const size of [sse.length, 7, 1]) {
      const result = assembleChatStream(pieces(sse, size));
      expect(result.done).toBe(true);
      expect(result.error).toBeUndefined();
      expect(result.usage).toEqual({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
      expect(result.completion).toEqual({
        id: 'chatcmpl-9',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Hello, Wörld 🚀' }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
      });
    }
  });

  it('joins parallel tool calls per index from fragments, even interleaved', () => {
    const sse = [
      chunk([delta({ role: 'assistant', content: null })]),
      chunk([
        delta({
          tool_calls: [
            { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        }),
      ]),
      chunk([delta({ tool_calls: [{ index: 0, function: { arguments: '{"loc' } }] })]),
      chunk([
        delta({
          tool_calls: [
            { index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz"' } },
          ],
        }),
      ]),
      chunk([delta({ tool_calls: [{ index: 0, function: { arguments: 'ation":"Paris"}' } }] })]),
      chunk([delta({ tool_calls: [{ index: 1, function: { arguments: ':"CET"}' } }] })]),
      chunk([delta({}, 'tool_calls')]),
      event('[DONE]'),
    ].join('');
    const result = assembleChatStream(pieces(sse, 5));
    const choice = choicesOf(result)[0];
    expect(choice).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
          },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
        ],
      },
      finish_reason: 'tool_calls',
    });
    expect(result.usage).toBeUndefined();
  });

  it('keeps several choices (n > 1) apart, in index order', () => {
    const sse = [
      chunk([
        delta({ role: 'assistant', content: 'B' }, null, 1),
        delta({ role: 'assistant', content: 'A' }, null, 0),
      ]),
      chunk([delta({ content: '1' }, 'stop', 0), delta({ content: '2' }, 'length', 1)]),
      event('[DONE]'),
    ].join('');
    expect(choicesOf(assembleChatStream([Buffer.from(sse)]))).toEqual([
      { index: 0, message: { role: 'assistant', content: 'A1' }, finish_reason: 'stop' },
      { index: 1, message: { role: 'assistant', content: 'B2' }, finish_reason: 'length' },
    ]);
  });

  it('reports an error event and keeps what came before it', () => {
    const error = {
      message: 'openai: the stream broke off: socket closed',
      type: 'api_error',
      param: null,
      code: 'upstream_error',
    };
    const sse = [chunk([delta({ role: 'assistant', content: 'Partial' })]), event({ error })].join('');
    const result = assembleChatStream([Buffer.from(sse)]);
    expect(result.error).toEqual(error);
    expect(result.done).toBe(false);
    expect(choicesOf(result)[0]?.message).toEqual({
      role: 'assistant',
      content: 'Partial',
    });
  });

  it('reports an error that is the whole stream', () => {
    const result = assembleChatStream([
      Buffer.from(event({ error: { message: 'overloaded', type: 'server_error' } })),
    ]);
    expect(result.error).toEqual({ message: 'overloaded', type: 'server_error' });
    expect(result.completion).toBeUndefined();
  });

  it('survives comments, CRLF framing, a stream without [DONE] and a payload that is not JSON', () => {
    const sse = [
      ': OPENROUTER PROCESSING\r\n\r\n',
      chunk([delta({ role: 'assistant', content: 'ok' })]).replace(/\n/g, '\r\n'),
      'data: {not json\r\n\r\n',
      chunk([delta({}, 'stop')]).replace(/\n/g, '\r\n'),
    ].join('');
    const result = assembleChatStream(pieces(sse, 3));
    expect(result.done).toBe(false);
    expect(choicesOf(result)[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'ok' },
      finish_reason: 'stop',
    });
  });

  it('gives the same message whichever way the events are framed (plain LF or general SSE)', () => {
    const events = [
      chunk([delta({ role: 'assistant', content: '' })]),
      chunk([delta({ content: 'Hel' })]),
      chunk([delta({ content: 'lo "quoted" \\ \u00e9' })]),
      chunk([delta({}, 'stop')]),
      event('[DONE]'),
    ];
    const plain = assembleChatStream(pieces(events.join(''), 7));
    const variants = [
      // LF framing with a keep-alive comment between events
      events.join(': keep-alive\n\n'),
      // `data:` with no space after the colon
      events.map((e) => e.replace('data: ', 'data:')).join(''),
      // an `event:` field before each data line
      events.map((e) => `event: message\n${e}`).join(''),
      // a last event without its blank line
      events.join('').replace(/\n\n$/, ''),
    ];
    expect(choicesOf(plain)[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'Hello "quoted" \\ \u00e9' },
      finish_reason: 'stop',
    });
    for (const sse of variants) {
      const result = assembleChatStream(pieces(sse, 5));
      expect(result.completion, sse).toEqual(plain.completion);
      expect(result.done).toBe(true);
    }
  });

  it('returns no completion for an empty stream', () => {
    expect(assembleChatStream([])).toEqual({
      completion: undefined,
      usage: undefined,
      error: undefined,
      done: false,
    });
  });

  // Content-only chunks that repeat the previous one's text around the content string are read
  // without a JSON.parse; these streams check that this never changes what is assembled.
  it('reads every content string exactly, whatever it holds, on the template path', () => {
    const tricky = [
      '',
      'a',
      '"',
      '\\',
      '\\"',
      '\n',
      '\r\n',
      '\u00e9',
      'é',
      '🚀',
      '"},"x":"',
      '\\u0041',
      '}',
      '{',
      'data: x',
      '\t\b',
    ];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      // The high bits: the low ones of this generator repeat with a short period.
      return (seed >>> 16) % n;
    };
    for (let round = 0; round < 200; round++) {
      const choiceCount = 1 + random(2);
      const expected = Array.from({ length: choiceCount }, () => '');
      const events: string[] = [];
      for (let index = 0; index < choiceCount; index++) {
        events.push(chunk([delta({ role: 'assistant', content: '' }, null, index)], { usage: null }));
      }
      const length = 1 + random(12);
      for (let i = 0; i < length; i++) {
        const index = random(choiceCount);
        const piece =
          tricky[random(tricky.length)]! + (random(3) === 0 ? tricky[random(tricky.length)]! : '');
        expected[index] += piece;
        const withRole = random(4) === 0;
        const extra = random(5) === 0 ? { id: `chatcmpl-${random(3)}` } : {};
        events.push(
          event({
            ...HEAD,
            ...extra,
            choices: [
              delta(withRole ? { role: 'assistant', content: piece } : { content: piece }, null, index),
            ],
            usage: null,
          }),
        );
      }
      for (let index = 0; index < choiceCount; index++)
        events.push(chunk([delta({}, 'stop', index)], { usage: null }));
      events.push(event('[DONE]'));
      const result = assembleChatStream(pieces(events.join(''), 1 + random(300)));
      expect(
        choicesOf(result).map((choice) => (choice.message as { content: string }).content),
        events.join(''),
      ).toEqual(expected);
      expect(choicesOf(result).map((choice) => choice.finish_reason)).toEqual(expected.map(() => 'stop'));
    }
  });

  it('does not take a chunk with other fields in its delta, or a finish reason, for a content-only one', () => {
    const sse = [
      chunk([delta({ content: 'a' })]),
      // Same text around the content as the chunk before, but these carry more than content.
      chunk([delta({ content: 'b', refusal: 'no' })]),
      chunk([delta({ content: 'c' }, 'length')]),
      chunk([delta({ content: 'd' })], {
        usage: { prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 },
      }),
      chunk([delta({ content: 'e' })]),
    ].join('');
    const result = assembleChatStream([Buffer.from(sse)]);
    expect(choicesOf(result)[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'abcde', refusal: 'no' },
      finish_reason: 'length',
    });
    expect(result.usage).toEqual({ prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 });
  });

  it("reads chunks that repeat the first one's head from their choices on, and any other chunk whole", () => {
    const usage = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 };
    const sse = [
      // The first chunk: its text up to "choices": is the head later chunks are compared with.
      chunk([delta({ role: 'assistant', content: '', refusal: null })], { usage: null }),
      chunk([delta({ content: 'one', refusal: 'r1' })], { usage: null }),
      // Another head (a different id): parsed whole; the completion keeps the first chunk's id.
      event({ ...HEAD, id: 'chatcmpl-other', choices: [delta({ content: ' two' })], usage: null }),
      // A key called "choices" nested before the real one: the head does not match, parsed whole.
      event({ ...HEAD, meta: { a: 1, choices: 'x' }, choices: [delta({ content: ' three' })] }),
      // The same head, then more after the choices: usage, and an error later on.
      chunk([delta({}, 'stop')], { usage }),
      chunk([], { usage: null, error: { message: 'late' } }),
    ].join('');
    const whole = assembleChatStream([Buffer.from(sse)]);
    expect(whole.completion).toMatchObject({ id: 'chatcmpl-9', created: HEAD.created, model: 'gpt-4o' });
    expect(choicesOf(whole)[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'one two three', refusal: 'r1' },
      finish_reason: 'stop',
    });
    expect(whole.usage).toEqual(usage);
    expect(whole.error).toEqual({ message: 'late' });
    // A first chunk whose "choices" is nested in an earlier field: no shared head is taken from it.
    const nested = [
      event({ ...HEAD, meta: { a: 1, choices: 'x' }, choices: [delta({ content: 'a' })] }),
      event({ ...HEAD, meta: { a: 1, choices: 'x' }, choices: [delta({ content: 'b' }, 'stop')] }),
    ].join('');
    expect(choicesOf(assembleChatStream([Buffer.from(nested)]))[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'ab' },
      finish_reason: 'stop',
    });
  });

  it('gives each stream its own message when their role and finish chunks are the same text', () => {
    // Such chunks are parsed once for all streams; nothing of one stream may reach another.
    const stream = (id: string, text: string, finish: string) =>
      Buffer.from(
        [
          event({ ...HEAD, id, choices: [delta({ role: 'assistant', content: '' })], usage: null }),
          event({ ...HEAD, id, choices: [delta({ content: text })], usage: null }),
          event({ ...HEAD, id, choices: [delta({}, finish)], usage: null }),
          'data: [DONE]\n\n',
        ].join(''),
      );
    const runs = [
      assembleChatStream([stream('a', 'first', 'stop')]),
      assembleChatStream([stream('b', 'second', 'stop')]),
      assembleChatStream([stream('c', 'third', 'length')]),
      assembleChatStream([stream('a', 'first', 'stop')]),
    ];
    expect(runs.map((run) => [run.completion?.id, choicesOf(run)[0]])).toEqual([
      ['a', { index: 0, message: { role: 'assistant', content: 'first' }, finish_reason: 'stop' }],
      ['b', { index: 0, message: { role: 'assistant', content: 'second' }, finish_reason: 'stop' }],
      ['c', { index: 0, message: { role: 'assistant', content: 'third' }, finish_reason: 'length' }],
      ['a', { index: 0, message: { role: 'assistant', content: 'first' }, finish_reason: 'stop' }],
    ]);
  });

  it('reads a first chunk that repeats a key after its choices as JSON does: the last one stands', () => {
    const sse = [
      `data: {"id":"early","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"id":"late"}\n\n`,
      'data: [DONE]\n\n',
    ].join('');
    expect(assembleChatStream([Buffer.from(sse)]).completion?.id).toBe('late');
  });
});
