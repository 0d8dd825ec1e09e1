import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from '../../src/streaming/sse-parser.js';

/** Feeds the pieces in order, then end(); returns every event. */
function parse(...pieces: Array<Uint8Array | string>): SseEvent[] {
  const parser = new SseParser();
  const events = pieces.flatMap((piece) => parser.push(piece));
  events.push(...parser.end());
  return events;
}

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function data(events: SseEvent[]): string[] {
  return events.map((event) => event.data);
}

// A recorded OpenAI stream (wire-formats.md §1: text, then a tool call in fragments, usage, [DONE]),
// with a non-ASCII word so byte splits land inside UTF-8 sequences.
const OPENAI_STREAM = [
  'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}',
  '',
  'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}',
  '',
  'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" Zürich — 東京 🚀"},"logprobs":null,"finish_reason":null}]}',
  '',
  'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}',
  '',
  'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"loc"}}]},"finish_reason":null}]}',
  '',
  'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}',
  '',
  'data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

// The same kind of stream as OpenRouter sends it through some proxies: CRLF line ends, keep-alive
// comments before and between events, a named event, and a multi-line data field.
const CRLF_STREAM = [
  ': OPENROUTER PROCESSING',
  '',
  ': OPENROUTER PROCESSING',
  '',
  'data: {"id":"gen-1","choices":[{"index":0,"delta":{"role":"assistant","content":"Grüße"}}]}',
  '',
  ': keep-alive',
  'event: message',
  'data: {"id":"gen-1",',
  'data: "choices":[{"index":0,"delta":{"content":" aus Köln"}}]}',
  '',
  'id: 7',
  'retry: 1000',
  'data: {"id":"gen-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\r\n');

describe('SseParser framing', () => {
  it('parses LF-framed events', () => {
    expect(parse('data: a\n\ndata: b\n\n')).toEqual([
      { event: undefined, data: 'a', id: undefined },
      { event: undefined, data: 'b', id: undefined },
    ]);
  });

  it('parses CRLF-framed events', () => {
    expect(data(parse('data: a\r\n\r\ndata: b\r\n\r\n'))).toEqual(['a', 'b']);
  });

  it('parses CR-framed events', () => {
    expect(data(parse('data: a\r\rdata: b\r\r'))).toEqual(['a', 'b']);
  });

  it('handles mixed line ends in one stream', () => {
    expect(data(parse('data: a\r\n\ndata: b\r\rdata: c\n\r\n'))).toEqual(['a', 'b', 'c']);
  });

  it('joins multi-line data with \\n', () => {
    expect(data(parse('data: line one\ndata: line two\ndata:\ndata: four\n\n'))).toEqual([
      'line one\nline two\n\nfour',
    ]);
  });

  it('strips exactly one space after the colon', () => {
    expect(data(parse('data:no-space\n\ndata:  two-spaces\n\n'))).toEqual(['no-space', ' two-spaces']);
  });

  it('reports event names, and resets them after each event', () => {
    const events = parse('event: message_start\ndata: {"a":1}\n\ndata: {"b":2}\n\n');
    expect(events).toEqual([
      { event: 'message_start', data: '{"a":1}', id: undefined },
      { event: undefined, data: '{"b":2}', id: undefined },
    ]);
  });

  it('ignores comments, also between the lines of one event', () => {
    expect(data(parse(': ping\n\n:\ndata: x\n: in the middle\ndata: y\n\n: trailing\n\n'))).toEqual(['x\ny']);
  });

  it('ignores an event with no data field', () => {
    expect(parse('event: ping\n\ndata: real\n\n')).toEqual([
      { event: undefined, data: 'real', id: undefined },
    ]);
  });

  it('keeps the last id', () => {
    expect(parse('id: 1\ndata: a\n\ndata: b\n\n').map((e) => e.id)).toEqual(['1', '1']);
  });

  it('flushes a final event without a trailing blank line on end()', () => {
    const parser = new SseParser();
    expect(parser.push('data: first\n\ndata: last')).toEqual([
      { event: undefined, data: 'first', id: undefined },
    ]);
    expect(parser.end()).toEqual([{ event: undefined, data: 'last', id: undefined }]);
  });

  it('flushes a final event whose last line did end, but with no blank line', () => {
    const parser = new SseParser();
    expect(parser.push('event: done\ndata: [DONE]\n')).toEqual([]);
    expect(parser.end()).toEqual([{ event: 'done', data: '[DONE]', id: undefined }]);
  });

  it('does not emit anything twice when end() follows a complete stream', () => {
    const parser = new SseParser();
    expect(data(parser.push('data: a\n\n'))).toEqual(['a']);
    expect(parser.end()).toEqual([]);
  });

  it('skips a BOM at the start of the stream', () => {
    expect(parse('\uFEFFdata: a\n\n')).toEqual([{ event: undefined, data: 'a', id: undefined }]);
    expect(parse(bytes('\uFEFFdata: a\n\n'))).toEqual([{ event: undefined, data: 'a', id: undefined }]);
    // Split inside the BOM's three bytes.
    const withBom = bytes('\uFEFFdata: a\n\n');
    expect(data(parse(withBom.subarray(0, 1), withBom.subarray(1, 2), withBom.subarray(2)))).toEqual(['a']);
  });

  it('keeps a BOM that is not at the start (it is data then)', () => {
    expect(data(parse('data: a\n\ndata: \uFEFFb\n\n'))).toEqual(['a', '\uFEFFb']);
  });

  it('decodes a multi-byte UTF-8 character split across chunks', () => {
    const raw = bytes('data: 🚀é東\n\n');
    const rocket = raw.indexOf(0xf0);
    // 4-byte emoji cut after each of its first three bytes, then the rest.
    const events = parse(
      raw.subarray(0, rocket + 1),
      raw.subarray(rocket + 1, rocket + 2),
      raw.subarray(rocket + 2, rocket + 3),
      raw.subarray(rocket + 3),
    );
    expect(data(events)).toEqual(['🚀é東']);
  });

  it('treats a CR at the end of one chunk and a LF at the start of the next as one line end', () => {
    // If the pair were counted twice, the LF would end the event early and split it in two.
    expect(data(parse('data: a\r', '\ndata: b\r\n\r\n'))).toEqual(['a\nb']);
  });
});

describe('SseParser on recorded streams split anywhere', () => {
  const cases = [
    { name: 'OpenAI stream (LF)', text: OPENAI_STREAM },
    { name: 'CRLF stream with comments', text: CRLF_STREAM },
  ];

  for (const { name, text } of cases) {
    const raw = bytes(text);
    const whole = parse(raw);

    it(`${name}: parses whole`, () => {
      expect(whole.length).toBeGreaterThan(3);
      expect(whole.at(-1)?.data).toBe('[DONE]');
      for (const event of whole.slice(0, -1)) expect(() => JSON.parse(event.data)).not.toThrow();
    });

    it(`${name}: split in two at every byte offset gives the same events`, () => {
      for (let offset = 0; offset <= raw.length; offset++) {
        const events = parse(raw.subarray(0, offset), raw.subarray(offset));
        if (JSON.stringify(events) !== JSON.stringify(whole)) {
          // One clear failure naming the offset rather than thousands of diffs.
          expect({ offset, events }).toEqual({ offset, events: whole });
        }
      }
    });

    it(`${name}: byte by byte gives the same events`, () => {
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < raw.length; i++) pieces.push(raw.subarray(i, i + 1));
      expect(parse(...pieces)).toEqual(whole);
    });

    it(`${name}: byte by byte with empty chunks in between gives the same events`, () => {
      // Empty reads happen (a decoder holding a partial character returns ''); they must not
      // change how a CR at the end of one chunk pairs with a LF at the start of a later one.
      const pieces: Array<Uint8Array | string> = [];
      for (let i = 0; i < raw.length; i++) pieces.push(raw.subarray(i, i + 1), new Uint8Array(0), '');
      expect(parse(...pieces)).toEqual(whole);
    });

    it(`${name}: as strings split at every character gives the same events`, () => {
      for (let offset = 0; offset <= text.length; offset++) {
        const events = parse(text.slice(0, offset), text.slice(offset));
        if (JSON.stringify(events) !== JSON.stringify(whole)) {
          expect({ offset, events }).toEqual({ offset, events: whole });
        }
      }
    });
  }

  it('the CRLF stream yields the expected events', () => {
    const events = parse(bytes(CRLF_STREAM));
    expect(events.map((e) => e.event)).toEqual([undefined, 'message', undefined, undefined]);
    expect(JSON.parse(events[1]?.data ?? '')).toEqual({
      id: 'gen-1',
      choices: [{ index: 0, delta: { content: ' aus Köln' } }],
    });
    expect(events[2]?.id).toBe('7');
  });
});
