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
});
