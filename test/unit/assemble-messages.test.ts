// The request log's assembly of an Anthropic Messages stream into one Message: the recorded
// Anthropic streams of the translator fixtures (golden Messages in test/fixtures/log-assembly/),
// each replayed whole, split in two at every byte and byte by byte, plus the cases no recording
// has (server tools, citations, redacted thinking, CRLF, a truncated copy).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { assembleMessagesStream } from '../../src/streaming/assemble-messages.js';
import { FIXTURES, golden, readText } from '../support/golden.js';

const RECORDED = join(FIXTURES, 'openai-anthropic');
const GOLDEN = join(FIXTURES, 'log-assembly');

/** The recorded Anthropic streams: every openai-anthropic case with an upstream-stream.txt. */
const streamCases = readdirSync(RECORDED, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((name) => readdirSync(join(RECORDED, name)).includes('upstream-stream.txt'))
  .sort();

function event(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

function replays(bytes: Buffer): Array<{ how: string; chunks: Buffer[] }> {
  const out: Array<{ how: string; chunks: Buffer[] }> = [{ how: 'whole', chunks: [bytes] }];
  for (let at = 1; at < bytes.length; at++)
    out.push({ how: `split at ${at}`, chunks: [bytes.subarray(0, at), bytes.subarray(at)] });
  const single: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) single.push(bytes.subarray(i, i + 1));
  out.push({ how: 'byte by byte', chunks: single });
  return out;
}

describe('assembleMessagesStream on recorded Anthropic streams', () => {
  it('has recorded streams to replay', () => {
    expect(streamCases.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of streamCases) {
    it(`${name}: one Message, the same however the stream is split`, () => {
      const bytes = Buffer.from(readText(join(RECORDED, name, 'upstream-stream.txt')));
      const whole = assembleMessagesStream([bytes]);
      golden(join(GOLDEN, `${name}.json`), whole);
      for (const { how, chunks } of replays(bytes)) {
        expect(assembleMessagesStream(chunks), how).toEqual(whole);
      }
    });
  }

  it('joins tool input fragments per block and parses them', () => {
    const bytes = Buffer.from(readText(join(RECORDED, 'parallel-tool-calls-stream', 'upstream-stream.txt')));
    const { completion, done, error } = assembleMessagesStream([bytes]);
    expect(done).toBe(true);
    expect(error).toBeUndefined();
    expect(completion?.content).toEqual([
      { type: 'text', text: 'Checking both.' },
      { type: 'tool_use', id: 'toolu_01Paris', name: 'get_weather', input: { location: 'Paris' } },
      { type: 'tool_use', id: 'toolu_01Rome', name: 'get_weather', input: { location: 'Rome' } },
    ]);
    expect(completion?.stop_reason).toBe('tool_use');
  });

  it("keeps thinking with its signature, and merges message_delta's usage over message_start's", () => {
    const bytes = Buffer.from(readText(join(RECORDED, 'thinking-tool-stream', 'upstream-stream.txt')));
    const { completion, usage } = assembleMessagesStream([bytes]);
    expect((completion?.content as unknown[] | undefined)?.[0]).toEqual({
      type: 'thinking',
      thinking: 'Oslo: call the tool.',
      signature: 'c2lnLW93bg==',
    });
    expect(usage).toEqual({
      input_tokens: 50,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 400,
      output_tokens: 80,
      output_tokens_details: { thinking_tokens: 41 },
    });
    expect(completion?.usage).toEqual(usage);
  });

  it('captures an error event and is not done without message_stop', () => {
    const bytes = Buffer.from(readText(join(RECORDED, 'stream-error', 'upstream-stream.txt')));
    const { completion, error, done } = assembleMessagesStream([bytes]);
    expect(error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(done).toBe(false);
    expect(completion?.content).toEqual([
      { type: 'thinking', thinking: 'Let me think' },
      { type: 'text', text: 'Hel' },
    ]);
  });
});

describe('assembleMessagesStream on shapes no recording has', () => {
  const start = event('message_start', {
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 10,
        cache_creation_input_tokens: 5,
        cache_read_input_tokens: 100,
        output_tokens: 1,
      },
    },
  });
  const stop = event('message_stop', {});

  it('keeps server tools, their results, redacted thinking and citations, in index order', () => {
    const searchResult = {
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_1',
      content: [{ type: 'web_search_result', url: 'https://example.org', title: 'Example' }],
    };
    const citation = { type: 'web_search_result_location', url: 'https://example.org', cited_text: 'x' };
    const sse = [
      start,
      event('content_block_start', {
        index: 0,
        content_block: { type: 'redacted_thinking', data: 'EmwKAhgB' },
      }),
      event('content_block_stop', { index: 0 }),
      event('content_block_start', {
        index: 1,
        content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} },
      }),
      event('content_block_delta', {
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"query":' },
      }),
      event('content_block_delta', {
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '"oslo"}' },
      }),
      event('content_block_stop', { index: 1 }),
      event('content_block_start', { index: 2, content_block: searchResult }),
      event('content_block_stop', { index: 2 }),
      event('content_block_start', { index: 3, content_block: { type: 'text', text: '', citations: [] } }),
      event('content_block_delta', { index: 3, delta: { type: 'citations_delta', citation } }),
      event('content_block_delta', {
        index: 3,
        delta: { type: 'text_delta', text: 'Sunny "and" \\ cold\n' },
      }),
      event('content_block_delta', { index: 3, delta: { type: 'text_delta', text: 'in Oslo 🌞' } }),
      event('content_block_stop', { index: 3 }),
      event('content_block_start', { index: 4, content_block: { type: 'future_block', payload: { a: 1 } } }),
      event('content_block_stop', { index: 4 }),
      event('message_delta', {
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: {
          output_tokens: 42,
          cache_read_input_tokens: null,
          server_tool_use: { web_search_requests: 1 },
        },
      }),
      stop,
    ].join('');
    for (const { how, chunks } of replays(Buffer.from(sse))) {
      const { completion, usage, done } = assembleMessagesStream(chunks);
      expect(done, how).toBe(true);
      expect(completion, how).toEqual({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [
          { type: 'redacted_thinking', data: 'EmwKAhgB' },
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'oslo' } },
          searchResult,
          { type: 'text', text: 'Sunny "and" \\ cold\nin Oslo 🌞', citations: [citation] },
          { type: 'future_block', payload: { a: 1 } },
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: 10,
          cache_creation_input_tokens: 5,
          // A null in message_delta does not hide the count message_start gave.
          cache_read_input_tokens: 100,
          output_tokens: 42,
          server_tool_use: { web_search_requests: 1 },
        },
      });
      expect(usage, how).toEqual(completion?.usage);
    }
  });

  it('reads many deltas of one block the same through its fast path as through a parse', () => {
    const texts = ['a', '"q"', '\\', 'é🚀', '\u2028', '', 'line\nnext', 'end'];
    const deltas = texts.map((text) =>
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
    );
    // The same deltas with a space before the closing brace: no two alike, so each is parsed.
    const spaced = deltas.map((d) => d.replace(/}}\n\n$/, '} }\n\n'));
    const open = event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    const fast = assembleMessagesStream([Buffer.from(start + open + deltas.join('') + stop)]);
    const parsed = assembleMessagesStream([Buffer.from(start + open + spaced.join('') + stop)]);
    expect(fast.completion?.content).toEqual([{ type: 'text', text: texts.join('') }]);
    expect(parsed).toEqual(fast);
  });

  it('parses a run of deltas like the one before it only once', () => {
    const open = event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    const deltas = Array.from({ length: 50 }, (_, i) =>
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `w${i} ` } }),
    );
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const { completion } = assembleMessagesStream([Buffer.from(start + open + deltas.join('') + stop)]);
      expect((completion?.content as Array<{ text: string }> | undefined)?.[0]?.text).toMatch(
        /^w0 w1 .* w49 $/,
      );
      // message_start, content_block_start, the first delta and message_stop.
      expect(parse.mock.calls.length).toBeLessThanOrEqual(4);
    } finally {
      parse.mockRestore();
    }
  });

  it('reads CRLF streams, comments and events without a name', () => {
    const sse = [
      start,
      ': keep-alive\n\n',
      `data: ${JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })}\n\n`,
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'hi' } }),
      event('message_delta', {
        delta: { stop_reason: 'max_tokens', stop_sequence: null },
        usage: { output_tokens: 2 },
      }),
      stop,
    ]
      .join('')
      .replace(/\n/g, '\r\n');
    for (const { how, chunks } of replays(Buffer.from(sse))) {
      const { completion, done } = assembleMessagesStream(chunks);
      expect(done, how).toBe(true);
      expect(completion?.content, how).toEqual([{ type: 'text', text: 'hi' }]);
      expect(completion?.stop_reason, how).toBe('max_tokens');
    }
  });

  it('keeps what a truncated copy (start and end, no middle) still shows', () => {
    const sse = [
      start,
      // content_block_start of index 0 and its first fragments were in the cut middle
      event('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '"oslo"}' },
      }),
      event('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'tail' } }),
      event('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }),
      stop,
    ].join('');
    const { completion, usage } = assembleMessagesStream([Buffer.from(sse)]);
    expect(completion?.content).toEqual([
      // Fragments that do not join into JSON are kept as text.
      { type: 'tool_use', input: '"oslo"}' },
      { type: 'text', text: 'tail' },
    ]);
    expect(usage).toMatchObject({ input_tokens: 10, output_tokens: 9 });
  });

  it('gives no message for a stream with no Messages events', () => {
    const result = assembleMessagesStream([Buffer.from('event: ping\ndata: {"type":"ping"}\n\n')]);
    expect(result).toEqual({ completion: undefined, usage: undefined, error: undefined, done: false });
  });
});
