// The Responses API translators bridged through the chat hub, against golden fixtures:
// test/fixtures/responses-<protocol>/<case>/ holds the client's request.json (a Responses body),
// the expected upstream-request.json (+ dropped-params.json), upstream-response.json →
// response.json (a Response object), and upstream-stream.txt → expected-chunks.json (the Responses
// events), replayed whole, split at every byte and byte by byte by the shared runner. Ids and
// clocks are random per exchange and held normalized (resp_HEX, created_at 0). A case may name the
// routed upstream model in upstream-model.txt.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import type { Protocol } from '../../src/providers/registry.js';
import { responsesTranslatorFor } from '../../src/translators/responses/index.js';
import { responsesPassthrough } from '../../src/translators/responses/responses-passthrough.js';
import type { BuildContext, ChatRequestBody, ChatTranslator } from '../../src/translators/types.js';
import type { ResultStreamTranslator } from '../../src/translators/via-chat.js';
import {
  describeGoldenCases,
  FIXTURES,
  folderNames,
  type GoldenCase,
  readText,
  replayStream,
  splitsOf,
} from '../support/golden.js';
import {
  expectWellFormedResponsesStream,
  functionCallArguments,
  normalizedResponse,
  rawResponsesEvents,
  responsesEvents,
} from '../support/responses-events.js';

type Json = Record<string, unknown>;

const DEFAULT_MODELS: Record<string, string> = {
  openai: 'gpt-4.1',
  anthropic: 'claude-sonnet-4-5-20250929',
  gemini: 'gemini-2.5-flash',
  cohere: 'command-a-03-2025',
};

/** A provider as the router hands it over; `responses` is the native switch (off: bridged). */
function providerOf(protocol: Protocol, responses = false): ProviderConfig {
  return { name: protocol, protocol, responses } as unknown as ProviderConfig;
}

function translatorOf(protocol: Protocol): ChatTranslator {
  const translator = responsesTranslatorFor(protocol, providerOf(protocol));
  if (translator === undefined) throw new Error(`no Responses translator for ${protocol}`);
  return translator;
}

function contextOf(protocol: Protocol, testCase: GoldenCase): BuildContext {
  const modelFile = join(testCase.dir, 'upstream-model.txt');
  return {
    provider: providerOf(protocol),
    model: existsSync(modelFile) ? readText(modelFile).trim() : (DEFAULT_MODELS[protocol] ?? 'model'),
    stream: testCase.request.stream === true,
    body: testCase.request as ChatRequestBody,
    rawBody: testCase.rawRequest,
  };
}

function contextFor(protocol: Protocol, body: Json): BuildContext {
  return {
    provider: providerOf(protocol),
    model: DEFAULT_MODELS[protocol] ?? 'model',
    stream: body.stream === true,
    body: body as ChatRequestBody,
    rawBody: JSON.stringify(body),
  };
}

function streamOf(translator: ChatTranslator, ctx: BuildContext): ResultStreamTranslator {
  const stream = translator.createStreamTranslator?.(ctx);
  if (stream === undefined) throw new Error('no stream step');
  return stream as ResultStreamTranslator;
}

function expectInvalid(run: () => unknown, param: string, words: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(GatewayError);
  const error = caught as GatewayError;
  expect(error.status).toBe(400);
  expect(error.code).toBe('invalid_request');
  expect(error.param).toBe(param);
  expect(error.message).toContain(words);
}

const TRANSLATED: Array<{ protocol: Protocol; path: RegExp; cases: string[] }> = [
  {
    protocol: 'openai',
    path: /^\/chat\/completions$/,
    cases: [
      'string-input',
      'instructions-items-images',
      'tool-choice-function',
      'tool-choice-required-serial',
      'tool-choice-none',
      'tool-choice-allowed-tools',
      'tool-loop',
      'text-format-json-schema',
      'text-format-json-object',
      'reasoning-effort',
      'reasoning-output',
      'reasoning-stream',
      'text-stream',
      'interleaved-tools-stream',
      'usage-cached-reasoning',
      'stream-error',
      'max-tokens-incomplete',
      'max-tokens-incomplete-stream',
      'dropped-params',
      'refusal-stream',
    ],
  },
  {
    protocol: 'anthropic',
    path: /^\/messages$/,
    cases: ['text-instructions', 'tool-loop', 'text-stream', 'tool-call-stream'],
  },
  {
    protocol: 'gemini',
    path: /^\/models\/[^/]+:(generateContent|streamGenerateContent\?alt=sse)$/,
    cases: ['text-reasoning-effort', 'tool-loop-signature', 'tool-call-stream', 'pdf-file'],
  },
  {
    protocol: 'cohere',
    path: /^\/v2\/chat$/,
    cases: ['text-reasoning', 'text-tool-stream'],
  },
];

for (const { protocol, path, cases } of TRANSLATED) {
  const root = join(FIXTURES, `responses-${protocol}`);
  const translator = translatorOf(protocol);

  describe(`Responses → ${protocol} golden fixtures`, () => {
    it('has the cases the brief names', () => {
      expect(folderNames(root)).toEqual(expect.arrayContaining(cases));
    });

    describeGoldenCases({
      root,
      context: (testCase) => contextOf(protocol, testCase),
      request: {
        build: (ctx) => translator.buildRequest(ctx),
        check: (built) => expect(built.path).toMatch(path),
        golden: (built) => ({ path: built.path, headers: built.headers, body: JSON.parse(built.body) }),
        droppedParamsFile: true,
      },
      response: {
        title: 'translates the upstream answer into a Response',
        translate: (upstream, ctx) => normalizedResponse(translator.translateResponse!(upstream, ctx)),
      },
      stream: {
        create: (ctx) => streamOf(translator, ctx),
        check: (text) => {
          expectWellFormedResponsesStream(text);
        },
        events: responsesEvents,
      },
    });
  });
}

describe('Responses → chat streams: what a client gets besides the events', () => {
  const streamCases = TRANSLATED.flatMap(({ protocol }) => {
    const root = join(FIXTURES, `responses-${protocol}`);
    return folderNames(root)
      .filter((name) => existsSync(join(root, name, 'upstream-stream.txt')))
      .map((name) => ({ protocol, name, dir: join(root, name) }));
  });

  it.each(streamCases)(
    '$protocol/$name: result() is the Response the last event carried',
    ({ protocol, dir, name }) => {
      const request = JSON.parse(readText(join(dir, 'request.json'))) as Json;
      const ctx = contextOf(protocol, { name, dir, rawRequest: JSON.stringify(request), request });
      const stream = streamOf(translatorOf(protocol), ctx);
      expect(stream.result?.()).toBeUndefined();
      const text = replayStream(stream, [readFileSync(join(dir, 'upstream-stream.txt'))]);
      const last = rawResponsesEvents(text).at(-1) as Json;
      expect(stream.result?.()).toEqual(last.response);
      // The non-stream answer for the same exchange names the same response.
      expect((last.response as Json).id).toMatch(/^resp_[0-9a-f]{32}$/);
    },
  );
});

describe('Responses → OpenAI chat: function-call arguments survive every split of the stream', () => {
  const root = join(FIXTURES, 'responses-openai');
  const translator = translatorOf('openai');

  /** Each upstream call's joined arguments, keyed by its id, from the raw OpenAI chunks. */
  function upstreamArguments(stream: string): Map<string, string> {
    const byId = new Map<string, string>();
    const current = new Map<number, string>();
    for (const line of stream.split(/\r?\n/)) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const chunk = JSON.parse(line.slice(6)) as {
        choices?: Array<{ delta?: { tool_calls?: Array<Record<string, unknown>> } }>;
      };
      for (const call of chunk.choices?.[0]?.delta?.tool_calls ?? []) {
        const index = call.index as number;
        if (typeof call.id === 'string') {
          current.set(index, call.id);
          byId.set(call.id, '');
        }
        const id = current.get(index)!;
        const args = (call.function as { arguments?: string } | undefined)?.arguments ?? '';
        byId.set(id, byId.get(id)! + args);
      }
    }
    return byId;
  }

  const streamCases = folderNames(root).filter((name) => {
    const file = join(root, name, 'upstream-stream.txt');
    return existsSync(file) && readText(file).includes('tool_calls');
  });

  it('has streamed tool-call cases', () => {
    expect(streamCases.length).toBeGreaterThanOrEqual(1);
  });

  it.each(streamCases)('%s', (name) => {
    const dir = join(root, name);
    const request = JSON.parse(readText(join(dir, 'request.json'))) as Json;
    const ctx = contextOf('openai', { name, dir, rawRequest: JSON.stringify(request), request });
    const bytes = readFileSync(join(dir, 'upstream-stream.txt'));
    const expected = upstreamArguments(bytes.toString('utf8'));
    expect(expected.size).toBeGreaterThan(1);
    const splits = [{ label: 'whole', pieces: [bytes] }, ...splitsOf(bytes)];
    for (const { label, pieces } of splits) {
      const calls = functionCallArguments(replayStream(streamOf(translator, ctx), pieces));
      expect(
        calls.map((call) => call.call_id),
        label,
      ).toEqual([...expected.keys()]);
      for (const call of calls)
        expect(call.arguments, `${label}: ${call.call_id}`).toBe(expected.get(call.call_id));
    }
  });
});

describe('Responses → chat: requests that cannot be translated', () => {
  const base = { model: 'gpt-4.1', input: 'x' };

  it('a built-in tool: a 400 naming the tool, on every bridged protocol', () => {
    const body = {
      ...base,
      tools: [
        { type: 'function', name: 'get_weather', parameters: { type: 'object' } },
        { type: 'web_search_preview' },
      ],
    };
    for (const protocol of ['openai', 'anthropic', 'gemini', 'cohere'] as const) {
      expectInvalid(
        () => translatorOf(protocol).buildRequest(contextFor(protocol, body)),
        'tools',
        'tools[1]: the built-in tool "web_search_preview"',
      );
    }
    for (const tool of [
      { type: 'file_search', vector_store_ids: ['vs_1'] },
      { type: 'code_interpreter', container: { type: 'auto' } },
      { type: 'image_generation' },
      { type: 'mcp', server_label: 'x', server_url: 'https://example.test' },
      { type: 'custom', name: 'grammar_tool' },
      { type: 'local_shell' },
      { type: 'computer_use_preview', display_width: 1, display_height: 1, environment: 'browser' },
    ]) {
      expectInvalid(
        () => translatorOf('openai').buildRequest(contextFor('openai', { ...base, tools: [tool] })),
        'tools',
        JSON.stringify(tool.type),
      );
    }
  });

  it('a built-in tool_choice: a 400 naming it', () => {
    const body = {
      ...base,
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
      tool_choice: { type: 'web_search_preview' },
    };
    expectInvalid(
      () => translatorOf('openai').buildRequest(contextFor('openai', body)),
      'tool_choice',
      'web_search_preview',
    );
  });

  it('stored items, files and built-in tool calls: a 400 naming the item', () => {
    const cases: Array<[unknown[], string, string]> = [
      [
        [
          { role: 'user', content: 'x' },
          { type: 'item_reference', id: 'msg_1' },
        ],
        'input[1]',
        'item_reference',
      ],
      [
        [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1', detail: 'auto' }] }],
        'input[0].content[0].file_id',
        'file_id',
      ],
      [
        [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-2' }] }],
        'input[0].content[0].file_id',
        'file_id',
      ],
      [[{ type: 'web_search_call', id: 'ws_1', status: 'completed' }], 'input[0].type', 'web_search_call'],
      [[{ type: 'computer_call_output', call_id: 'c', output: {} }], 'input[0].type', 'computer_call_output'],
      [[{ type: 'mystery' }], 'input[0].type', 'mystery'],
    ];
    for (const [input, param, words] of cases) {
      expectInvalid(
        () => translatorOf('openai').buildRequest(contextFor('openai', { ...base, input })),
        param,
        words,
      );
    }
  });

  it('a PDF to a provider that takes none (Anthropic and Cohere through chat): a 400 naming the part', () => {
    const input = [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'Summarize' },
          { type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
        ],
      },
    ];
    for (const protocol of ['anthropic', 'cohere'] as const) {
      expectInvalid(
        () => translatorOf(protocol).buildRequest(contextFor(protocol, { ...base, input })),
        'input[0].content[1]',
        'a.pdf',
      );
    }
  });

  it('odd input is a 400 naming the field, never a TypeError', () => {
    const odd: Array<[Json, string]> = [
      [{ ...base, input: 7 }, 'input'],
      [{ ...base, input: [] }, 'input'],
      [{ ...base, input: [null] }, 'input[0]'],
      [{ ...base, input: [{ role: 'tool', content: 'x' }] }, 'input[0].role'],
      [{ ...base, input: [{ role: 'user', content: 5 }] }, 'input[0].content'],
      [
        { ...base, input: [{ role: 'user', content: [{ type: 'output_text', text: 'x' }] }] },
        'input[0].content[0].type',
      ],
      [
        { ...base, input: [{ role: 'assistant', content: [{ type: 'input_image' }] }] },
        'input[0].content[0].type',
      ],
      [{ ...base, input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id'],
      [{ ...base, input: [{ type: 'function_call_output', call_id: 'c', output: 3 }] }, 'input[0].output'],
      [{ ...base, instructions: ['x'] }, 'instructions'],
      [{ ...base, tools: 'all' }, 'tools'],
      [{ ...base, tools: [{ type: 'function' }] }, 'tools[0].name'],
      [
        { ...base, tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function' } },
        'tool_choice.name',
      ],
      [{ ...base, text: { format: { type: 'json_schema', name: 'x' } } }, 'text.format.schema'],
      [{ ...base, text: { format: { type: 'yaml' } } }, 'text.format.type'],
      [{ ...base, reasoning: { effort: 'extreme' } }, 'reasoning.effort'],
      [{ ...base, conversation: 'conv_1' }, 'conversation'],
      [{ ...base, prompt: { id: 'pmpt_1' } }, 'prompt'],
    ];
    for (const [body, param] of odd) {
      let caught: unknown;
      try {
        translatorOf('openai').buildRequest(contextFor('openai', body));
      } catch (error) {
        caught = error;
      }
      expect(caught, param).toBeInstanceOf(GatewayError);
      expect((caught as GatewayError).param, JSON.stringify(body)).toBe(param);
    }
  });
});

describe('Responses → chat: answers and errors', () => {
  it("never relays the upstream's chat error body as it came", () => {
    const body = JSON.stringify({
      error: {
        message: 'Invalid value for max_tokens',
        type: 'invalid_request_error',
        param: 'max_tokens',
        code: null,
      },
    });
    const detail = translatorOf('openai').parseError(400, body);
    expect(detail).toEqual({
      message: 'Invalid value for max_tokens',
      type: 'invalid_request_error',
      code: null,
      param: 'max_tokens',
    });
    expect(detail.relay).toBeUndefined();
  });

  it('the Response names the model the client asked for; its id is fresh per exchange, not the upstream id', () => {
    const completion = {
      id: 'chatcmpl-9',
      model: 'gpt-4.1-mini-2025-04-14',
      choices: [{ message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' }],
    };
    const body = { model: 'fast', input: 'x' };
    const first = translatorOf('openai').translateResponse!(completion, contextFor('openai', body)) as Json;
    const second = translatorOf('openai').translateResponse!(completion, contextFor('openai', body)) as Json;
    expect(first.model).toBe('fast');
    expect(first.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(second.id).not.toBe(first.id);
    // No usage from the upstream: null, not invented zeros.
    expect(first.usage).toBeNull();
  });

  it('a stream that fails before its first chunk still opens with response.created', () => {
    const ctx = contextFor('openai', { model: 'gpt-4.1', input: 'x', stream: true });
    const stream = streamOf(translatorOf('openai'), ctx);
    const error = { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } };
    const text = replayStream(stream, [Buffer.from(`data: ${JSON.stringify(error)}\n\n`)]);
    const response = expectWellFormedResponsesStream(text);
    expect(rawResponsesEvents(text).map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.failed',
    ]);
    expect(response.error).toEqual({ code: 'rate_limit_exceeded', message: 'Rate limit reached' });
    expect(stream.result?.()).toEqual(response);
  });

  it('a stream cut before [DONE] still closes its item and completes', () => {
    const ctx = contextFor('openai', { model: 'gpt-4.1', input: 'x', stream: true });
    const chunk = {
      id: 'chatcmpl-1',
      choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
    };
    const text = replayStream(streamOf(translatorOf('openai'), ctx), [
      Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`),
    ]);
    const response = expectWellFormedResponsesStream(text);
    expect(response.status).toBe('completed');
    expect(response.output).toEqual([
      expect.objectContaining({ type: 'message', content: [expect.objectContaining({ text: 'Hi' })] }),
    ]);
  });
});

describe('Responses translators by protocol', () => {
  it('native for an OpenAI-protocol provider that serves /responses; bridged for the rest', () => {
    expect(responsesTranslatorFor('openai', providerOf('openai', true))).toBe(responsesPassthrough);
    for (const protocol of ['openai', 'anthropic', 'gemini', 'cohere'] as const) {
      const translator = responsesTranslatorFor(protocol, providerOf(protocol));
      expect(translator).not.toBe(responsesPassthrough);
      expect(translator?.translateResponse).toBeTypeOf('function');
      expect(translator?.createStreamTranslator).toBeTypeOf('function');
    }
    // `responses: true` on a non-OpenAI protocol means nothing: it is bridged.
    expect(responsesTranslatorFor('anthropic', providerOf('anthropic', true))).not.toBe(responsesPassthrough);
    expect(responsesTranslatorFor('ideogram', providerOf('ideogram'))).toBeUndefined();
  });
});
