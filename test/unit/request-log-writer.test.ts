// The request log's own machinery: records packed into batches, written by the log writer thread
// (the compiled one; `npm test` builds first) or in this thread, with usage and cost handed back
// for the key accounting. The gateway's integration tests check the records of real exchanges.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ByteBuffer } from '../../src/logs/byte-buffer.js';
import { HeadPacker, HeadReader, type RecordBase } from '../../src/logs/record-head.js';
import { logWriterScript, RequestLog } from '../../src/logs/request-log.js';
import type { AccountingMeta, PendingRecord } from '../../src/logs/request-record.js';
import type { TokenUsage } from '../../src/usage/pricing.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ai-proxy-log-'));
  dirs.push(dir);
  return dir;
}

function readLines(dir: string): Array<Record<string, unknown>> {
  const requests = join(dir, 'requests');
  if (!existsSync(requests)) return [];
  return readdirSync(requests)
    .sort()
    .flatMap((name) => readFileSync(join(requests, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function completeLineCount(dir: string): number {
  const requests = join(dir, 'requests');
  if (!existsSync(requests)) return 0;
  let count = 0;
  for (const name of readdirSync(requests)) {
    const text = readFileSync(join(requests, name), 'utf8');
    count += text.split('\n').length - 1;
  }
  return count;
}

function pending(
  id: string,
  overrides: Partial<PendingRecord> = {},
  time = '2026-11-23T10:00:00.000Z',
): PendingRecord {
  return {
    base: {
      id,
      client_request_id: null,
      time,
      server_id: 'srv_test',
      endpoint: '/v1/chat/completions',
      method: 'POST',
      client_key_hash: 'hash-1',
      client_ip: '127.0.0.1',
      user_agent: 'tests "quoted"\n',
      dialog_id: null,
      model_requested: 'gpt-4o-mini',
      model_mapped: 'gpt-4o-mini',
      provider: 'openai',
      key_id: 'openai-1',
      status: 200,
      latency_ms: 1.5,
      ttfb_ms: 1.2,
      overhead_ms: 0.1,
      stream: false,
      attempts: [],
    },
    rawRequest: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"héllo 🚀"}]}',
    responseBytes: undefined,
    streamChunks: undefined,
    error: null,
    ...overrides,
  };
}

const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

const STREAM = [
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" \\"there\\"\\n"},"finish_reason":null}]}\n\n',
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":${JSON.stringify(USAGE)}}\n\n`,
  'data: [DONE]\n\n',
].map((text) => Buffer.from(text));

/** One of each kind of record the gateway hands over. */
function sampleRecords(): PendingRecord[] {
  return [
    // A JSON answer, pretty-printed (line breaks must not reach the JSONL line), with a price.
    pending('r-json', {
      responseBytes: Buffer.from(JSON.stringify({ id: 'x', choices: [], usage: USAGE }, null, 2)),
      price: { prompt1k: 1, completion1k: 2 },
    }),
    // A stream, cut into pieces anywhere, with its usage in the last chunk.
    pending('r-stream', {
      streamChunks: [Buffer.concat(STREAM).subarray(0, 100), Buffer.concat(STREAM).subarray(100)],
    }),
    // A body that was not JSON, and an error.
    pending('r-error', {
      rawRequest: undefined,
      unparsedRequest: '{not json\n',
      error: { message: 'The request body is not valid JSON', type: 'invalid_request_error' },
      base: { ...pending('r-error').base, status: 400, provider: null },
    }),
    // A cost already worked out on the request path wins over the price.
    pending('r-cost', {
      responseBytes: Buffer.from(JSON.stringify({ usage: USAGE })),
      price: { prompt1k: 1, completion1k: 2 },
      cost: 0.5,
    }),
    // Another UTC day in the same batch.
    pending('r-next-day', {}, '2026-11-24T00:00:01.000Z'),
  ];
}

interface Accounted {
  meta: AccountingMeta;
  tokens: TokenUsage | undefined;
  cost: number | null;
}

async function writeAll(threadScript: URL | undefined, bodies = true) {
  const dir = tempDir();
  const accounted: Accounted[] = [];
  const errors: unknown[] = [];
  const log = new RequestLog({
    dir,
    bodies,
    threadScript,
    onError: (error) => errors.push(error),
    account: (meta, tokens, cost) => accounted.push({ meta, tokens, cost }),
  });
  for (const record of sampleRecords()) log.add(record);
  await log.flush();
  const mode = log.mode;
  await log.close();
  return { dir, lines: readLines(dir), accounted, errors, mode };
}

/** Packs the heads into one batch and reads them back, each closed as a JSON object. */
function roundTrip(bases: readonly RecordBase[]): string[] {
  const packer = new HeadPacker();
  const out = new ByteBuffer(1024);
  for (const base of bases) packer.pack(out, base);
  const reader = new HeadReader(out.bytes);
  const heads = bases.map(() => `${reader.read()}}`);
  expect(reader.at).toBe(out.length);
  return heads;
}

const script = logWriterScript();

describe('the request log writer', () => {
  it('is the compiled writer thread when there is a build', () => {
    expect(script, 'npm test builds dist/ first').toBeDefined();
  });

  it("writes a record's first fields exactly as JSON.stringify would", () => {
    const plain = pending('r-1').base;
    const tricky = {
      ...plain,
      client_request_id: 'abc.1',
      user_agent: 'ua "q" \\ \n \u0001 \u2028 é 🚀',
      dialog_id: '\ud800 lone surrogate',
      client_key_hash: null,
      model_requested: null,
      model_mapped: null,
      provider: null,
      key_id: null,
      latency_ms: Number.NaN,
      ttfb_ms: null,
      overhead_ms: Number.POSITIVE_INFINITY,
      stream: true,
      attempts: [
        {
          provider: 'a',
          model: 'm',
          key_id: 'k1',
          status: 500,
          outcome: 'status' as const,
          error: 'boom "x"\n',
          duration_ms: 1.25,
        },
        {
          provider: 'b',
          model: 'm2',
          key_id: 'k2',
          status: null,
          outcome: 'timeout' as const,
          duration_ms: 0,
        },
        { provider: 'c', model: 'm3', key_id: 'k3', status: 200, outcome: 'ok' as const, duration_ms: 3.5 },
      ],
    };
    // Repeats (one byte per field), a null between equal values, and back.
    const sequence = [plain, tricky, tricky, plain, { ...tricky, user_agent: null }, tricky, plain];
    expect(roundTrip(sequence)).toEqual(sequence.map((base) => JSON.stringify(base)));
  });

  it('packs heads that repeat, change and vanish in any order as JSON.stringify would write them', () => {
    // A small pseudo-random walk over a few values per field (null and lone surrogates included),
    // with up to six attempts (more than the packer keeps per slot), and runs of records alike.
    let seed = 7;
    const pick = <T>(values: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      // The high bits: the low ones of this generator repeat with a short period.
      return values[(seed >>> 16) % values.length]!;
    };
    const strings = ['a', 'b', 'é 🚀', '"q"\\n', '\udc00x'] as const;
    const maybe = [...strings, null] as const;
    const numbers = [0, 1.5, -2, 1e21, Number.NaN, Number.POSITIVE_INFINITY, null] as const;
    const bases: RecordBase[] = [];
    for (let i = 0; i < 400; i++) {
      const attempts = Array.from({ length: pick([0, 1, 2, 6]) }, () => {
        const error = pick([undefined, 'boom', '\\n"x"']);
        return {
          provider: pick(strings),
          model: pick(strings),
          key_id: pick(strings),
          status: pick([200, 429, null]),
          outcome: pick(['ok', 'status', 'timeout'] as const),
          ...(error === undefined ? {} : { error }),
          duration_ms: pick([0, 3.25]),
        };
      });
      bases.push({
        id: `r-${i}`,
        client_request_id: pick(maybe),
        time: pick(['2026-11-23T10:00:00.000Z', '2026-11-23T10:00:00.001Z']),
        server_id: pick(strings),
        endpoint: pick(strings),
        method: pick(['POST', 'GET']),
        client_key_hash: pick(maybe),
        client_ip: pick(strings),
        user_agent: pick(maybe),
        dialog_id: pick(maybe),
        model_requested: pick(maybe),
        model_mapped: pick(maybe),
        provider: pick(maybe),
        key_id: pick(maybe),
        status: pick([200, 502]),
        latency_ms: pick(numbers) as number,
        ttfb_ms: pick(numbers),
        overhead_ms: pick(numbers),
        stream: pick([true, false]),
        attempts,
      });
      // Often the next exchange is like this one (same client, model, provider, key, attempts'
      // strings), as under real traffic: the groups that repeat whole are packed as one byte.
      const last = bases[bases.length - 1]!;
      for (let copies = pick([0, 0, 1, 3]); copies > 0 && i < 399; copies--) {
        i += 1;
        const next: RecordBase = {
          ...last,
          id: `r-${i}`,
          latency_ms: pick(numbers) as number,
          attempts: last.attempts.map((attempt) => ({ ...attempt, duration_ms: pick([0, 1.5]) })),
        };
        // Or alike but for one string: a group that repeats all but one field is written whole.
        const field = pick(['', '', 'server_id', 'client_ip', 'dialog_id', 'key_id', 'attempt'] as const);
        if (field === 'attempt' && next.attempts.length > 0) {
          const [first, ...rest] = next.attempts;
          next.attempts = [{ ...first!, key_id: `${first!.key_id}+` }, ...rest];
        } else if (field === 'server_id' || field === 'client_ip') {
          next[field] = `${next[field]}+`;
        } else if (field === 'dialog_id' || field === 'key_id') {
          next[field] = next[field] === null ? 'set' : null;
        }
        bases.push(next);
      }
    }
    expect(roundTrip(bases)).toEqual(bases.map((base) => JSON.stringify(base)));
  });

  it('starts a batch afresh: a packer reset forgets what it would repeat', () => {
    const base = pending('r-1').base;
    const packer = new HeadPacker();
    const first = new ByteBuffer(1024);
    packer.pack(first, base);
    packer.reset();
    const second = new ByteBuffer(1024);
    packer.pack(second, base);
    // Written whole again, so a reader that starts with this batch can read it.
    expect(second.length).toBe(first.length);
    expect(`${new HeadReader(second.bytes).read()}}`).toBe(JSON.stringify(base));
  });

  it('writes every kind of record the same in the writer thread and in this thread', async () => {
    const threaded = await writeAll(script);
    const inline = await writeAll(undefined);
    expect(threaded.mode).toBe('thread');
    expect(inline.mode).toBe('inline');
    expect(threaded.errors).toEqual([]);
    expect(threaded.lines).toEqual(inline.lines);
    expect(readdirSync(join(threaded.dir, 'requests')).sort()).toEqual([
      '2026-11-23.jsonl',
      '2026-11-24.jsonl',
    ]);

    const byId = new Map(threaded.lines.map((line) => [line.id, line]));
    expect([...byId.keys()]).toEqual(['r-json', 'r-stream', 'r-error', 'r-cost', 'r-next-day']);
    const json = byId.get('r-json')!;
    expect(json.user_agent).toBe('tests "quoted"\n');
    expect(json.request).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'héllo 🚀' }] });
    expect(json.response).toEqual({ id: 'x', choices: [], usage: USAGE });
    expect(json.usage).toEqual(USAGE);
    expect(json.cost).toBe(0.02); // 10 prompt tokens at $1/1k + 5 completion tokens at $2/1k
    const stream = byId.get('r-stream')!;
    expect(stream.usage).toEqual(USAGE);
    expect(stream.response).toEqual({
      id: 'c1',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi "there"\n' }, finish_reason: 'stop' }],
      usage: USAGE,
    });
    const error = byId.get('r-error')!;
    expect(error.request).toBe('{not json\n');
    expect(error.response).toBeNull();
    expect(error.error).toEqual({
      message: 'The request body is not valid JSON',
      type: 'invalid_request_error',
    });
    expect(error.usage).toBeNull();
    expect(byId.get('r-cost')!.cost).toBe(0.5);
    // Field order: the record's own fields, then what the writer adds.
    expect(Object.keys(json).slice(-6)).toEqual([
      'attempts',
      'cost',
      'usage',
      'error',
      'request',
      'response',
    ]);
  });

  it("hands each record's usage and cost back for accounting, in order", async () => {
    const { accounted } = await writeAll(script);
    expect(
      accounted.map((entry) => [entry.meta.provider, entry.meta.status, entry.tokens, entry.cost]),
    ).toEqual([
      ['openai', 200, { promptTokens: 10, completionTokens: 5, totalTokens: 15 }, 0.02],
      ['openai', 200, { promptTokens: 10, completionTokens: 5, totalTokens: 15 }, null],
      [null, 400, undefined, null],
      ['openai', 200, { promptTokens: 10, completionTokens: 5, totalTokens: 15 }, 0.5],
      ['openai', 200, undefined, null],
    ]);
  });

  it('LOG_BODIES=false leaves the bodies out but still finds the usage', async () => {
    const { lines, accounted } = await writeAll(script, false);
    expect(lines.map((line) => [line.request, line.response])).toEqual(lines.map(() => [null, null]));
    expect(lines.find((line) => line.id === 'r-stream')?.usage).toEqual(USAGE);
    expect(accounted[1]?.tokens?.totalTokens).toBe(15);
  });

  it('grows a batch for large records and sends a batch past 4 MB without waiting for the timer', async () => {
    const dir = tempDir();
    const log = new RequestLog({ dir, bodies: true, threadScript: script, flushDelayMs: 60_000 });
    const content = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 5; i++) {
      log.add(pending(`big-${i}`, { responseBytes: Buffer.from(JSON.stringify({ content, usage: USAGE })) }));
    }
    // Five 1 MB records: the first four fill the batch past 4 MB and leave at once; no flush() here.
    const deadline = Date.now() + 5_000;
    // The thread may be mid-append while this polls: count only lines that are complete.
    while (completeLineCount(dir) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(readLines(dir).map((line) => line.id)).toEqual(['big-0', 'big-1', 'big-2', 'big-3']);
    await log.close();
    const lines = readLines(dir);
    expect(lines.map((line) => line.id)).toEqual(['big-0', 'big-1', 'big-2', 'big-3', 'big-4']);
    for (const line of lines) expect((line.response as { content: string }).content).toBe(content);
  });

  it('writes a record that comes in after close at once (an exchange that outlived the stop)', async () => {
    const dir = tempDir();
    const log = new RequestLog({ dir, bodies: true, threadScript: script });
    log.add(pending('r-before'));
    await log.close();
    log.add(pending('r-late'));
    expect(readLines(dir).map((line) => line.id)).toEqual(['r-before', 'r-late']);
  });

  it('reports a record that cannot be packed and writes the others', async () => {
    const dir = tempDir();
    const errors: unknown[] = [];
    const log = new RequestLog({ dir, bodies: true, threadScript: script, onError: (e) => errors.push(e) });
    const circular: Record<string, unknown> = { message: 'x' };
    circular.self = circular; // JSON.stringify throws on it
    const bad = pending('r-bad', { error: circular });
    log.add(pending('r-1'));
    log.add(bad);
    log.add(pending('r-2'));
    await log.close();
    expect(errors).toHaveLength(1);
    expect(readLines(dir).map((line) => line.id)).toEqual(['r-1', 'r-2']);
  });

  it('loses nothing when the writer thread dies: its batches are written here and writing goes on here', async () => {
    const dir = tempDir();
    const errors: unknown[] = [];
    const log = new RequestLog({ dir, bodies: true, threadScript: script, onError: (e) => errors.push(e) });
    for (let i = 0; i < 50; i++) log.add(pending(`before-${i}`));
    const flushed = log.flush();
    // The thread goes away with the batch possibly not written yet.
    const thread = Reflect.get(log, 'thread') as { terminate(): Promise<number> };
    await thread.terminate();
    await flushed;
    expect(log.mode).toBe('inline');
    for (let i = 0; i < 50; i++) log.add(pending(`after-${i}`));
    await log.close();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    const ids = new Set(readLines(dir).map((line) => line.id));
    for (let i = 0; i < 50; i++) {
      expect(ids.has(`before-${i}`)).toBe(true);
      expect(ids.has(`after-${i}`)).toBe(true);
    }
  });
});
