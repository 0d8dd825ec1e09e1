// The request log's records of Anthropic Messages exchanges (endpoint /v1/messages): packed into a
// batch as the gateway packs them, then written as JSON lines. A stream is assembled into one
// Message (chat streams in the same batch still into a chat completion), the usage is read in
// Anthropic's shape and the cost prices cache reads and writes at their own rates.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Price } from '../../src/config/types.js';
import { ByteBuffer } from '../../src/logs/byte-buffer.js';
import { RESULT_FIELDS, writeBatch } from '../../src/logs/jsonl-writer.js';
import { RecordBatch, unpackRecords } from '../../src/logs/record-batch.js';
import { type PendingRecord, writeRecordLine } from '../../src/logs/request-record.js';
import { makeTempDir } from '../support/gateway.js';
import { FIXTURES, readText } from '../support/golden.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A recorded Anthropic stream: thinking + tool_use, 50 input, 400 cache-read, 80 output tokens. */
const MESSAGES_STREAM = Buffer.from(
  readText(join(FIXTURES, 'openai-anthropic', 'thinking-tool-stream', 'upstream-stream.txt')),
);

const MESSAGES_REQUEST = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'Weather in Oslo?' }],
  stream: true,
});

const CHAT_STREAM = Buffer.from(
  [
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n',
    'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}\n\n',
    'data: [DONE]\n\n',
  ].join(''),
);

const CACHED_PRICE: Price = {
  prompt1k: 0.003,
  completion1k: 0.015,
  cacheRead1k: 0.0003,
  cacheWrite1k: 0.00375,
};

function pending(id: string, endpoint: string, overrides: Partial<PendingRecord> = {}): PendingRecord {
  return {
    base: {
      id,
      client_request_id: null,
      time: '2026-12-03T10:00:00.000Z',
      server_id: 'srv_test',
      endpoint,
      method: 'POST',
      client_key_hash: 'hash-1',
      client_ip: '127.0.0.1',
      user_agent: 'claude-cli/2.0',
      dialog_id: null,
      model_requested: 'claude-sonnet-4-5',
      model_mapped: 'claude-sonnet-4-5',
      provider: 'anthropic',
      key_id: 'anthropic-1',
      status: 200,
      latency_ms: 12,
      ttfb_ms: 3,
      overhead_ms: 0.2,
      stream: true,
      attempts: [],
    },
    rawRequest: MESSAGES_REQUEST,
    responseBytes: undefined,
    streamChunks: undefined,
    error: null,
    ...overrides,
  };
}

function records(): PendingRecord[] {
  return [
    // A Messages stream, as the relay copied it (cut anywhere), priced with cache rates.
    pending('r-messages-stream', '/v1/messages', {
      streamChunks: [MESSAGES_STREAM.subarray(0, 333), MESSAGES_STREAM.subarray(333)],
      price: CACHED_PRICE,
    }),
    // A chat stream next: the endpoint changes, and so does the assembler.
    pending('r-chat-stream', '/v1/chat/completions', {
      rawRequest: '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}',
      streamChunks: [CHAT_STREAM],
      price: { prompt1k: 1, completion1k: 2 },
    }),
    // A Messages answer (not streamed), priced without cache rates.
    pending('r-messages-json', '/v1/messages', {
      base: { ...pending('x', '/v1/messages').base, id: 'r-messages-json', stream: false },
      responseBytes: Buffer.from(
        JSON.stringify({
          id: 'msg_2',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5',
          content: [{ type: 'text', text: 'Sunny.' }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: {
            input_tokens: 20,
            cache_creation_input_tokens: 1000,
            cache_read_input_tokens: 0,
            output_tokens: 5,
          },
        }),
      ),
      price: { prompt1k: 0.003, completion1k: 0.015 },
    }),
    // A second Messages stream whose server…key fields all repeat the one before: its endpoint
    // travels as one byte, and must still pick the Messages assembler.
    pending('r-messages-again', '/v1/messages', {
      base: { ...pending('x', '/v1/messages').base, id: 'r-messages-again' },
      streamChunks: [MESSAGES_STREAM],
      price: CACHED_PRICE,
    }),
  ];
}

function packed() {
  const batch = new RecordBatch();
  const all = records();
  for (const record of all) batch.add(record);
  return { batch, count: all.length };
}

describe('request log records of /v1/messages', () => {
  it('writes a Messages stream as one Message, with its Anthropic usage and a cost at the cache rates', () => {
    const { batch, count } = packed();
    const out = new ByteBuffer(64 * 1024);
    const outcomes = [...unpackRecords(batch.bytes, count)].map((record) => {
      expect(record.endpoint).toBe(
        JSON.stringify(record.head.includes('"/v1/messages"') ? '/v1/messages' : '/v1/chat/completions'),
      );
      return writeRecordLine(out, record, true);
    });
    const lines = out.bytes
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.id)).toEqual([
      'r-messages-stream',
      'r-chat-stream',
      'r-messages-json',
      'r-messages-again',
    ]);

    const [stream, chat, json, again] = lines as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    expect(stream.endpoint).toBe('/v1/messages');
    expect(stream.request).toEqual(JSON.parse(MESSAGES_REQUEST));
    expect(stream.response).toEqual({
      id: 'msg_own_thinking',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [
        { type: 'thinking', thinking: 'Oslo: call the tool.', signature: 'c2lnLW93bg==' },
        { type: 'tool_use', id: 'toolu_own_oslo', name: 'get_weather', input: { city: 'Oslo' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 50,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 400,
        output_tokens: 80,
        output_tokens_details: { thinking_tokens: 41 },
      },
    });
    expect(stream.usage).toEqual((stream.response as Record<string, unknown>).usage);
    expect(stream.error).toBeNull();
    // 50 × 0.003 + 400 × 0.0003 + 80 × 0.015, per 1k
    expect(stream.cost).toBe(0.00147);
    expect(outcomes[0]).toEqual({
      tokens: {
        promptTokens: 450,
        completionTokens: 80,
        totalTokens: 530,
        cachedReadTokens: 400,
        reasoningTokens: 41,
      },
      cost: 0.00147,
    });

    expect(chat.response).toMatchObject({
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
    });
    expect(chat.cost).toBe(0.014);

    // The answer's own bytes, its usage read in Anthropic's shape: 1020 prompt tokens at the
    // prompt rate (no cache rate given), 5 completion.
    expect(json.response).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'Sunny.' }] });
    expect(json.cost).toBe(0.003135);
    expect(outcomes[2]?.tokens).toMatchObject({
      promptTokens: 1020,
      completionTokens: 5,
      cacheWriteTokens: 1000,
    });

    expect(again.response).toEqual(stream.response);
    expect(again.cost).toBe(0.00147);
  });

  it('hands the Messages usage back for key accounting and /v1/usage', () => {
    const { batch, count } = packed();
    const dir = makeTempDir('ai-proxy-log-messages-');
    dirs.push(dir);
    const { results, errors } = writeBatch(join(dir, 'requests'), batch.bytes, count, false);
    expect(errors).toEqual([]);
    const rows = Array.from({ length: count }, (_, i) =>
      Array.from(results.subarray(i * RESULT_FIELDS, (i + 1) * RESULT_FIELDS)),
    );
    // Prompt, completion, total, cost, then cache reads, cache writes and reasoning (for metrics).
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      [450, 80, 530, 0.00147],
      [10, 2, 12, 0.014],
      [1020, 5, 1025, 0.003135],
      [450, 80, 530, 0.00147],
    ]);
    expect(rows[0]?.slice(4)).toEqual([400, 0, 41]);
    expect(rows[2]?.slice(4)).toEqual([0, 1000, 0]);
    // Without bodies the line still carries usage and cost.
    const [file] = readdirSync(join(dir, 'requests'));
    const first = JSON.parse(readFileSync(join(dir, 'requests', file!), 'utf8').split('\n')[0]!);
    expect(first).toMatchObject({ endpoint: '/v1/messages', cost: 0.00147, request: null, response: null });
    expect(first.usage).toMatchObject({ input_tokens: 50, cache_read_input_tokens: 400 });
  });

  it("captures a Messages stream's error event as the record's error", () => {
    const cut = Buffer.from(
      readText(join(FIXTURES, 'openai-anthropic', 'stream-error', 'upstream-stream.txt')),
    );
    const batch = new RecordBatch();
    batch.add(pending('r-cut', '/v1/messages', { streamChunks: [cut] }));
    const out = new ByteBuffer(8 * 1024);
    const [record] = [...unpackRecords(batch.bytes, 1)];
    writeRecordLine(out, record!, true);
    const line = JSON.parse(out.bytes.toString('utf8')) as Record<string, unknown>;
    expect(line.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(line.response).toMatchObject({ content: [{ type: 'thinking' }, { type: 'text', text: 'Hel' }] });
    expect(line.cost).toBeNull();
  });

  it('round-trips a price with only one cache rate', () => {
    const batch = new RecordBatch();
    batch.add(
      pending('r-read-only', '/v1/messages', { price: { prompt1k: 1, completion1k: 2, cacheRead1k: 0.1 } }),
    );
    batch.add(pending('r-plain', '/v1/messages', { price: { prompt1k: 1, completion1k: 2 } }));
    const [a, b] = [...unpackRecords(batch.bytes, 2)];
    expect(a?.price).toStrictEqual({ prompt1k: 1, completion1k: 2, cacheRead1k: 0.1 });
    expect(b?.price).toStrictEqual({ prompt1k: 1, completion1k: 2 });
  });
});
