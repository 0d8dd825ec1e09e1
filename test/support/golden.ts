// The shared golden-fixture runner for the translator tests. A suite is a folder of case folders
// (test/fixtures/<suite>/<case>/); each case holds the client's request.json and the expected
// upstream-request.json, and optionally upstream-response.json → response.json and
// upstream-stream.txt → expected-chunks.json. Streams are replayed whole, split in two at every
// byte offset and fed byte by byte, which must all give the same output. UPDATE_GOLDEN=1 rewrites
// the expected files from the translator's output, to be reviewed by hand before committing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/streaming/sse-parser.js';
import type { BuildContext, StreamTranslator, UpstreamRequest } from '../../src/translators/types.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

/** The sub-folders of a folder, sorted: the cases of a suite, or the suites under FIXTURES. */
export function folderNames(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** The fixture suites whose folder name starts with the prefix, e.g. `openai-embeddings-`. */
export function fixtureSuites(prefix: string): string[] {
  return folderNames(FIXTURES).filter((name) => name.startsWith(prefix));
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function readJson(path: string): unknown {
  return JSON.parse(readText(path)) as unknown;
}

/** Compares with the golden JSON file, or writes it first when updating. */
export function golden(path: string, actual: unknown): void {
  if (UPDATE_GOLDEN) writeFileSync(path, `${JSON.stringify(actual, null, 2)}\n`);
  else if (!existsSync(path)) expect.fail(`${path} is missing; run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toEqual(readJson(path));
}

/** `created` is the clock: it must be a whole number, and fixtures hold 0. Applies at every depth. */
export function normalized<T>(value: T): T {
  if (Array.isArray(value)) return value.map(normalized) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'created') {
      expect(Number.isInteger(inner), '`created` is a whole number').toBe(true);
      out[key] = 0;
    } else out[key] = normalized(inner);
  }
  return out as T;
}

/** The same for raw SSE text: every `"created":<n>` becomes `"created":0`. */
export function normalizedText(text: string): string {
  return text.replace(/"created":\d+/g, '"created":0');
}

/** Runs upstream bytes through a fresh stream translator, fed in the given pieces; the raw output. */
export function replayStream(translator: StreamTranslator, pieces: Buffer[]): string {
  const out: Buffer[] = [];
  for (const piece of pieces) {
    const chunk = translator.push(piece);
    if (chunk !== undefined) out.push(chunk);
  }
  const tail = translator.end();
  if (tail !== undefined) out.push(tail);
  return Buffer.concat(out).toString('utf8');
}

/** The OpenAI events a client would read: chunk objects, error objects, and "[DONE]". */
export function openAIEvents(text: string): unknown[] {
  const parser = new SseParser();
  const events = [...parser.push(text), ...parser.end()];
  for (const event of events) expect(event.event).toBeUndefined();
  return events.map((event) => (event.data === '[DONE]' ? '[DONE]' : normalized(JSON.parse(event.data))));
}

/**
 * A finished stream (one that reached [DONE]) must leave every tool call's arguments as valid
 * JSON once the client has joined its fragments, as OpenAI's own streams do.
 */
export function expectToolArgumentsParse(text: string): void {
  const events = openAIEvents(text);
  if (events.at(-1) !== '[DONE]') return;
  const args = new Map<string, string>();
  for (const event of events) {
    const choices = (event as { choices?: unknown[] }).choices ?? [];
    for (const choice of choices as Array<{ index: number; delta?: { tool_calls?: unknown[] } }>) {
      for (const call of (choice.delta?.tool_calls ?? []) as Array<{
        index: number;
        function?: { arguments?: string };
      }>) {
        const key = `${choice.index}/${call.index}`;
        args.set(key, (args.get(key) ?? '') + (call.function?.arguments ?? ''));
      }
    }
  }
  for (const [key, joined] of args) {
    expect(() => JSON.parse(joined), `tool call ${key} arguments ${JSON.stringify(joined)}`).not.toThrow();
  }
}

/** Every way the stream tests cut the recorded bytes: whole, in two at each offset, byte by byte. */
export function splitsOf(bytes: Buffer): Array<{ label: string; pieces: Buffer[] }> {
  const splits: Array<{ label: string; pieces: Buffer[] }> = [];
  for (let offset = 1; offset < bytes.length; offset++) {
    splits.push({
      label: `split at byte ${offset}`,
      pieces: [bytes.subarray(0, offset), bytes.subarray(offset)],
    });
  }
  return splits;
}

export interface GoldenCase {
  name: string;
  dir: string;
  /** request.json as written, without its trailing line break. */
  rawRequest: string;
  request: Record<string, unknown>;
}

export interface GoldenSuite {
  /** The suite folder, holding one folder per case. */
  root: string;
  /** The context the router would hand the translator for this case. */
  context(testCase: GoldenCase): BuildContext;
  request: {
    build(ctx: BuildContext): UpstreamRequest;
    /** What upstream-request.json holds for the built request. */
    golden(built: UpstreamRequest): unknown;
    /** Further assertions on the built request. */
    check?(built: UpstreamRequest): void;
    /** Dropped params are kept in dropped-params.json ([] when absent) rather than in the golden. */
    droppedParamsFile?: boolean;
  };
  response?: {
    /** The test's name. */
    title: string;
    /** The answer the client gets; a pass-through relays the upstream answer as it is. */
    translate(upstream: unknown, ctx: BuildContext): unknown;
    /** Zero `created` before comparing. */
    normalize?: boolean;
    /** Every case has an upstream-response.json, rather than only those that need one. */
    everyCase?: boolean;
  };
  stream?: {
    create(ctx: BuildContext): StreamTranslator;
    /** Further assertions on the whole stream's output (raw text, `created` zeroed). */
    check?(text: string): void;
    /** The events kept in expected-chunks.json; OpenAI's unnamed `data:` events by default. */
    events?(text: string): unknown[];
  };
}

/** The table-driven runner: one describe per case folder, with the tests its files call for. */
export function describeGoldenCases(suite: GoldenSuite): void {
  describe.each(folderNames(suite.root))('%s', (name) => {
    const dir = join(suite.root, name);
    const rawRequest = readText(join(dir, 'request.json')).trim();
    const testCase: GoldenCase = {
      name,
      dir,
      rawRequest,
      request: JSON.parse(rawRequest) as Record<string, unknown>,
    };
    const ctx = suite.context(testCase);

    it('builds the upstream request', () => {
      const built = suite.request.build(ctx);
      suite.request.check?.(built);
      golden(join(dir, 'upstream-request.json'), suite.request.golden(built));
      if (suite.request.droppedParamsFile) {
        const droppedPath = join(dir, 'dropped-params.json');
        if (UPDATE_GOLDEN && built.droppedParams.length > 0) golden(droppedPath, built.droppedParams);
        const expected = existsSync(droppedPath) ? readJson(droppedPath) : [];
        expect(built.droppedParams).toEqual(expected);
      }
    });

    const response = suite.response;
    if (response !== undefined && (response.everyCase || existsSync(join(dir, 'upstream-response.json')))) {
      it(response.title, () => {
        const answer = response.translate(readJson(join(dir, 'upstream-response.json')), ctx);
        golden(join(dir, 'response.json'), response.normalize ? normalized(answer) : answer);
      });
    }

    const stream = suite.stream;
    if (stream !== undefined && existsSync(join(dir, 'upstream-stream.txt'))) {
      const bytes = readFileSync(join(dir, 'upstream-stream.txt'));
      const replay = (pieces: Buffer[]) => normalizedText(replayStream(stream.create(ctx), pieces));

      it('translates the stream replayed whole', () => {
        const whole = replay([bytes]);
        stream.check?.(whole);
        golden(join(dir, 'expected-chunks.json'), (stream.events ?? openAIEvents)(whole));
      });

      it('gives the same output split at every byte offset', () => {
        const whole = replay([bytes]);
        for (const { label, pieces } of splitsOf(bytes)) {
          if (replay(pieces) !== whole) expect.fail(`output differs when ${label}`);
        }
      });

      it('gives the same output fed byte by byte', () => {
        expect(replay([...bytes].map((byte) => Buffer.of(byte)))).toBe(replay([bytes]));
      });
    }
  });
}
