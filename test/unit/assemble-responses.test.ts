// The request log's assembly of an OpenAI Responses stream into one Response: streams shaped as
// OpenAI sends them (test/fixtures/log-assembly-responses/, golden Responses beside them), each
// replayed whole, split in two at every byte and byte by byte; the emulator's live streams; a cut
// stream, a failed one, an error event, a log copy truncated by StreamLogCopy; usage read as the
// gateway prices it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamAssemblerFor } from '../../src/logs/stream-assemblers.js';
import { StreamLogCopy } from '../../src/logs/stream-log-copy.js';
import { assembleResponsesStream } from '../../src/streaming/assemble-responses.js';
import { readUsage } from '../../src/usage/pricing.js';
import { ProviderEmulator } from '../support/emulator.js';
import { FIXTURES, golden, readText } from '../support/golden.js';

const DIR = join(FIXTURES, 'log-assembly-responses');
const streams = readdirSync(DIR)
  .filter((name) => name.endsWith('-stream.txt'))
  .sort();

function replays(bytes: Buffer): Array<{ how: string; chunks: Buffer[] }> {
  const out: Array<{ how: string; chunks: Buffer[] }> = [{ how: 'whole', chunks: [bytes] }];
  for (let at = 1; at < bytes.length; at++)
    out.push({ how: `split at ${at}`, chunks: [bytes.subarray(0, at), bytes.subarray(at)] });
  const single: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) single.push(bytes.subarray(i, i + 1));
  out.push({ how: 'byte by byte', chunks: single });
  return out;
}

function fixture(name: string): Buffer {
  return Buffer.from(readText(join(DIR, name)));
}

/** The `response` of the stream's last event, when it has one. */
function lastResponse(text: string): unknown {
  const lines = text.trimEnd().split('\n');
  const data = lines.at(-1)?.slice('data: '.length) ?? 'null';
  return (JSON.parse(data) as { response?: unknown }).response;
}

describe('assembleResponsesStream on Responses streams', () => {
  it('has streams to replay', () => {
    expect(streams.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of streams) {
    it(`${name}: one Response, the same however the stream is split`, () => {
      const bytes = fixture(name);
      const whole = assembleResponsesStream([bytes]);
      golden(join(DIR, name.replace(/\.txt$/, '.json')), whole);
      for (const { how, chunks } of replays(bytes))
        expect(assembleResponsesStream(chunks), how).toEqual(whole);
    });
  }

  it('is the assembler of /v1/responses records', () => {
    expect(streamAssemblerFor(JSON.stringify('/v1/responses'))).toBe(assembleResponsesStream);
  });

  it("takes response.completed's Response whole, with its usage read as the gateway prices it", () => {
    const text = readText(join(DIR, 'reasoning-text-stream.txt'));
    const { completion, usage, error, done } = assembleResponsesStream([Buffer.from(text)]);
    expect(completion).toEqual(lastResponse(text));
    expect(done).toBe(true);
    expect(error).toBeUndefined();
    expect(usage).toEqual({
      input_tokens: 42,
      input_tokens_details: { cached_tokens: 32 },
      output_tokens: 150,
      output_tokens_details: { reasoning_tokens: 128 },
      total_tokens: 192,
    });
    expect(readUsage(usage)).toEqual({
      promptTokens: 42,
      completionTokens: 150,
      totalTokens: 192,
      cachedReadTokens: 32,
      reasoningTokens: 128,
    });
  });

  it('reads a stream without event lines and one with CRLF line ends the same', () => {
    const text = readText(join(DIR, 'function-calls-stream.txt'));
    const expected = assembleResponsesStream([Buffer.from(text)]);
    const dataOnly = text
      .split('\n')
      .filter((line) => !line.startsWith('event: '))
      .join('\n');
    expect(assembleResponsesStream([Buffer.from(dataOnly)])).toEqual(expected);
    expect(assembleResponsesStream([Buffer.from(text.replaceAll('\n', '\r\n'))])).toEqual(expected);
  });

  it('rebuilds a cut stream from its item and delta events, a half event left out', () => {
    const { completion, usage, error, done } = assembleResponsesStream([fixture('cut-stream.txt')]);
    expect(done).toBe(false);
    expect(error).toBeUndefined();
    expect(usage).toBeUndefined();
    expect(completion).toMatchObject({ id: 'resp_cut0000000000000000000000000001', status: 'in_progress' });
    expect(completion?.output).toEqual([
      {
        id: 'msg_cut000000000000000000000000000a',
        type: 'message',
        status: 'in_progress',
        content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'The answer is forty' }],
        role: 'assistant',
      },
      {
        id: 'fc_cut0000000000000000000000000000b',
        type: 'function_call',
        status: 'in_progress',
        arguments: '{"term":"nebu',
        call_id: 'call_cut',
        name: 'lookup',
      },
    ]);
  });

  it("makes a failed response's error the record's error", () => {
    const { completion, error, done } = assembleResponsesStream([fixture('failed-stream.txt')]);
    expect(done).toBe(true);
    expect(error).toEqual({ code: 'server_error', message: 'The model produced invalid content.' });
    expect(completion?.status).toBe('failed');
  });

  it("makes an error event the record's error, keeping the text before it", () => {
    const { completion, error, done } = assembleResponsesStream([fixture('error-event-stream.txt')]);
    expect(done).toBe(false);
    expect(error).toEqual({
      code: 'rate_limit_exceeded',
      message: 'Rate limit reached for gpt-4o-mini.',
      param: null,
    });
    const [message] = (completion?.output ?? []) as Array<{ content: Array<{ text: string }> }>;
    expect(message?.content[0]?.text).toBe('Hello');
  });

  it('keeps an incomplete response as it ended, with its usage', () => {
    const { completion, usage, done } = assembleResponsesStream([fixture('incomplete-stream.txt')]);
    expect(done).toBe(true);
    expect(completion).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
    expect(readUsage(usage)).toEqual({ promptTokens: 12, completionTokens: 16, totalTokens: 28 });
  });

  it('reads nothing from a stream with nothing to read', () => {
    expect(assembleResponsesStream([Buffer.from('')])).toEqual({
      completion: undefined,
      usage: undefined,
      error: undefined,
      done: false,
    });
    expect(assembleResponsesStream([Buffer.from('data: [DONE]\n\n')]).completion).toBeUndefined();
  });
});

describe('assembleResponsesStream on the emulator and on truncated log copies', () => {
  let emu: ProviderEmulator;
  beforeAll(async () => {
    emu = await ProviderEmulator.start();
  });
  afterAll(async () => {
    await emu.close();
  });

  async function streamBytes(body: Record<string, unknown>): Promise<Buffer[]> {
    const res = await fetch(`${emu.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-log' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, ...body }),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body ?? []) chunks.push(Buffer.from(chunk));
    return chunks;
  }

  it('gives the Response the emulator stored, from the chunks as they arrived', async () => {
    emu.enqueue({
      kind: 'chat',
      content: 'Both.',
      reasoning: 'Two calls.',
      toolCalls: [
        { id: 'call_a', name: 'f', arguments: '{"x":1}' },
        { id: 'call_b', name: 'g', arguments: '{}' },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 7, cached_tokens: 4, reasoning_tokens: 3 },
    });
    const chunks = await streamBytes({ input: 'go' });
    const { completion, usage, done } = assembleResponsesStream(chunks);
    const [stored] = emu.responses.ids();
    const res = await fetch(`${emu.url}/v1/responses/${stored}`, {
      headers: { authorization: 'Bearer sk-log' },
    });
    expect(completion).toEqual(await res.json());
    expect(done).toBe(true);
    expect(readUsage(usage)).toEqual({
      promptTokens: 9,
      completionTokens: 7,
      totalTokens: 16,
      cachedReadTokens: 4,
      reasoningTokens: 3,
    });
  });

  it('rebuilds the same Response from the deltas when the terminal event is dropped', async () => {
    emu.enqueue({
      kind: 'chat',
      content: 'One two three.',
      toolCalls: [{ name: 'f', arguments: '{"a":[1,2]}' }],
    });
    const whole = assembleResponsesStream(await streamBytes({ input: 'go' }));
    emu.enqueue({
      kind: 'chat',
      content: 'One two three.',
      toolCalls: [{ name: 'f', arguments: '{"a":[1,2]}' }],
      dropLastEvents: 1,
    });
    const cut = assembleResponsesStream(await streamBytes({ input: 'go' }));
    expect(cut.done).toBe(false);
    // Every item got its output_item.done, so the output is whole; the status is the last snapshot's.
    expect(cut.completion?.output).toEqual(
      ((whole.completion?.output ?? []) as Array<Record<string, unknown>>).map((item) => ({
        ...item,
        id: expect.any(String),
        ...(item.type === 'function_call' ? { call_id: expect.any(String) } : {}),
      })),
    );
    expect(cut.completion?.status).toBe('in_progress');
  });

  it('finds the usage at the end of a log copy that lost the terminal event’s start', async () => {
    const content = 'lorem ipsum dolor sit amet '.repeat(4000);
    emu.enqueue({ kind: 'chat', content, usage: { prompt_tokens: 21, completion_tokens: 20_000 } });
    const copy = new StreamLogCopy(256 * 1024);
    for (const chunk of await streamBytes({ input: 'long' })) copy.add(chunk);
    expect(copy.finish()).toBe(true);
    const { completion, usage, done } = assembleResponsesStream(copy.chunks);
    expect(done).toBe(false);
    expect(usage).toMatchObject({ input_tokens: 21, output_tokens: 20_000, total_tokens: 20_021 });
    expect(completion?.usage).toEqual(usage);
    const [message] = (completion?.output ?? []) as Array<{ content: Array<{ text: string }> }>;
    const text = message?.content[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(1000);
    expect(content.startsWith(text)).toBe(true);
  });
});
