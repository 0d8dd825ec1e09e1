// The Messages API translators against golden fixtures: test/fixtures/messages-<protocol>/<case>/
// holds the client's request.json (an Anthropic Messages body), the expected upstream-request.json
// (+ dropped-params.json), upstream-response.json → response.json (an Anthropic Message), and
// upstream-stream.txt → expected-chunks.json (Anthropic's named events), replayed whole, split at
// every byte and byte by byte by the shared runner. A case may name the routed upstream model in
// upstream-model.txt and the client's headers in client-headers.json.
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors.js';
import type { Protocol } from '../../src/providers/registry.js';
import { messagesTranslatorFor } from '../../src/translators/messages/index.js';
import type { BuildContext, ChatRequestBody, ChatTranslator } from '../../src/translators/types.js';
import { anthropicEvents, expectWellFormedMessageStream, toolInputs } from '../support/anthropic-events.js';
import {
  describeGoldenCases,
  FIXTURES,
  folderNames,
  type GoldenCase,
  readText,
  replayStream,
  splitsOf,
} from '../support/golden.js';

const DEFAULT_MODELS: Record<string, string> = {
  openai: 'gpt-4.1',
  gemini: 'gemini-2.5-flash',
  cohere: 'command-a-03-2025',
  anthropic: 'claude-sonnet-4-5-20250929',
};

function providerOf(protocol: Protocol): ProviderConfig {
  return { name: protocol, protocol } as unknown as ProviderConfig;
}

function translatorOf(protocol: Protocol): ChatTranslator {
  const translator = messagesTranslatorFor(protocol);
  if (translator === undefined) throw new Error(`no Messages translator for ${protocol}`);
  return translator;
}

function contextOf(protocol: Protocol, testCase: GoldenCase): BuildContext {
  const modelFile = join(testCase.dir, 'upstream-model.txt');
  const headersFile = join(testCase.dir, 'client-headers.json');
  const ctx: BuildContext = {
    provider: providerOf(protocol),
    model: existsSync(modelFile) ? readText(modelFile).trim() : (DEFAULT_MODELS[protocol] ?? 'model'),
    stream: testCase.request.stream === true,
    body: testCase.request as ChatRequestBody,
    rawBody: testCase.rawRequest,
  };
  if (existsSync(headersFile)) ctx.clientHeaders = JSON.parse(readText(headersFile)) as IncomingHttpHeaders;
  return ctx;
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

function contextFor(protocol: Protocol, body: Record<string, unknown>): BuildContext {
  return {
    provider: providerOf(protocol),
    model: DEFAULT_MODELS[protocol] ?? 'model',
    stream: body.stream === true,
    body: body as ChatRequestBody,
    rawBody: JSON.stringify(body),
  };
}

const TRANSLATED: Array<{ protocol: Protocol; path: RegExp; cases: string[] }> = [
  {
    protocol: 'openai',
    path: /^\/chat\/completions$/,
    cases: [
      'plain-text',
      'system-cache-control',
      'images-documents',
      'tool-loop',
      'tool-choice-any',
      'tool-choice-tool',
      'tool-choice-none',
      'tool-choice-auto-serial',
      'thinking',
      'stop-max-tokens',
      'dropped-params',
      'text-stream',
      'parallel-tools-stream',
      'interleaved-tools-stream',
      'reasoning-stream',
      'usage-cached-stream',
      'stream-error',
    ],
  },
  {
    protocol: 'gemini',
    path: /^\/models\/[^/]+:(generateContent|streamGenerateContent\?alt=sse)$/,
    cases: ['text-thinking-top-k', 'tool-loop', 'tool-call-stream', 'text-stream', 'pdf-document'],
  },
  {
    protocol: 'cohere',
    path: /^\/v2\/chat$/,
    cases: ['text-thinking-top-k', 'text-tool-stream', 'tool-choice-tool'],
  },
];

for (const { protocol, path, cases } of TRANSLATED) {
  const root = join(FIXTURES, `messages-${protocol}`);
  const translator = translatorOf(protocol);

  describe(`Messages → ${protocol} golden fixtures`, () => {
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
        title: 'translates the upstream answer into a Message',
        translate: (upstream, ctx) => translator.translateResponse!(upstream, ctx),
      },
      stream: {
        create: (ctx) => translator.createStreamTranslator!(ctx),
        check: expectWellFormedMessageStream,
        events: anthropicEvents,
      },
    });
  });
}

describe('Messages → OpenAI: tool arguments survive every split of the stream', () => {
  const root = join(FIXTURES, 'messages-openai');
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
    expect(streamCases.length).toBeGreaterThanOrEqual(3);
  });

  it.each(streamCases)('%s', (name) => {
    const dir = join(root, name);
    const request = JSON.parse(readText(join(dir, 'request.json'))) as Record<string, unknown>;
    const ctx = contextOf('openai', { name, dir, rawRequest: JSON.stringify(request), request });
    const bytes = readFileSync(join(dir, 'upstream-stream.txt'));
    const expected = upstreamArguments(bytes.toString('utf8'));
    expect(expected.size).toBeGreaterThan(0);
    const splits = [{ label: 'whole', pieces: [bytes] }, ...splitsOf(bytes)];
    for (const { label, pieces } of splits) {
      const text = replayStream(translator.createStreamTranslator!(ctx), pieces);
      const inputs = toolInputs(text);
      expect(
        inputs.map((input) => input.id),
        label,
      ).toEqual([...expected.keys()]);
      for (const input of inputs) {
        expect(JSON.parse(input.json === '' ? '{}' : input.json), `${label}: ${input.id}`).toEqual(
          JSON.parse(expected.get(input.id)!),
        );
      }
    }
  });
});

describe('Messages → chat: requests that cannot be translated', () => {
  const openai = translatorOf('openai');
  const base = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] };

  it('an Anthropic server tool: a 400 naming the tool', () => {
    const body = {
      ...base,
      tools: [
        { name: 'get_weather', input_schema: { type: 'object' } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
      ],
    };
    for (const protocol of ['openai', 'gemini', 'cohere'] as const) {
      expectInvalid(
        () => translatorOf(protocol).buildRequest(contextFor(protocol, body)),
        'tools',
        'tools[1]: the Anthropic server tool "web_search" (type "web_search_20250305")',
      );
    }
  });

  it('the bash and text editor tools are server tools too', () => {
    for (const tool of [
      { type: 'bash_20250124', name: 'bash' },
      { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
    ]) {
      expectInvalid(
        () => openai.buildRequest(contextFor('openai', { ...base, tools: [tool] })),
        'tools',
        tool.type,
      );
    }
  });

  it('an image from the Files API: a 400 naming the block', () => {
    const image = { type: 'image', source: { type: 'file', file_id: 'file_011' } };
    const body = { ...base, messages: [{ role: 'user', content: [image] }] };
    expectInvalid(
      () => openai.buildRequest(contextFor('openai', body)),
      'messages[0].content[0].source',
      'file',
    );
  });

  it('a PDF to Cohere, which takes no documents: a 400 naming the block', () => {
    const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } };
    const body = { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, pdf] }] };
    expectInvalid(
      () => translatorOf('cohere').buildRequest(contextFor('cohere', body)),
      'messages[0].content[1].source',
      'PDF',
    );
  });

  it('a block type no other provider knows: a 400 naming its type', () => {
    const block = { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} };
    const body = { ...base, messages: [...base.messages, { role: 'assistant', content: [block] }] };
    expectInvalid(
      () => openai.buildRequest(contextFor('openai', body)),
      'messages[1].content[0].type',
      'server_tool_use',
    );
  });

  it('odd input is a 400, never a TypeError', () => {
    const odd: Array<[Record<string, unknown>, string]> = [
      [{ ...base, system: 42 }, 'system'],
      [{ ...base, system: [{ type: 'image' }] }, 'system[0]'],
      [{ ...base, messages: [null] }, 'messages[0]'],
      [{ ...base, messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
      [
        { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] },
        'messages[0].content[0].tool_use_id',
      ],
      [{ ...base, tools: [{ name: 'f' }], tool_choice: { type: 'tool' } }, 'tool_choice.name'],
      [{ ...base, tools: 'all' }, 'tools'],
      [{ ...base, thinking: { type: 'enabled' } }, 'thinking.budget_tokens'],
    ];
    for (const [body, param] of odd) {
      let caught: unknown;
      try {
        openai.buildRequest(contextFor('openai', body));
      } catch (error) {
        caught = error;
      }
      expect(caught, param).toBeInstanceOf(GatewayError);
      expect((caught as GatewayError).param, JSON.stringify(body)).toBe(param);
    }
  });
});

describe('Messages → chat: errors and answers', () => {
  it("never relays the upstream's error body: it is not in Anthropic's shape", () => {
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

  it('a Gemini error keeps its message and type', () => {
    const body = JSON.stringify({
      error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' },
    });
    expect(translatorOf('gemini').parseError(429, body)).toMatchObject({
      message: 'Quota exceeded',
      type: 'rate_limit_error',
    });
  });

  it('a stream cut before [DONE] still closes its blocks and ends with message_stop', () => {
    const ctx = contextFor('openai', {
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    const chunk = {
      id: 'chatcmpl-1',
      choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }],
    };
    const text = replayStream(translatorOf('openai').createStreamTranslator!(ctx), [
      Buffer.from(`data: ${JSON.stringify(chunk)}\n\n`),
    ]);
    expectWellFormedMessageStream(text);
    expect(anthropicEvents(text).map((event) => event.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('text that arrives inside an unfinished tool call waits for the call, then gets its own block', () => {
    const ctx = contextFor('openai', { model: 'claude-x', max_tokens: 10, stream: true, messages: [] });
    const frame = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-2', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const call = (args: string, head = false) => ({
      tool_calls: [
        {
          index: 0,
          ...(head
            ? { id: 'call_1', function: { name: 'f', arguments: args } }
            : { function: { arguments: args } }),
        },
      ],
    });
    const upstream = [
      frame(call('{"a":', true)),
      frame({ content: 'aside' }),
      frame(call('1}')),
      frame({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ].join('');
    const text = replayStream(translatorOf('openai').createStreamTranslator!(ctx), [Buffer.from(upstream)]);
    expectWellFormedMessageStream(text);
    const blocks = anthropicEvents(text).filter((event) => event.type === 'content_block_start');
    expect(blocks.map((event) => (event.content_block as { type: string }).type)).toEqual([
      'tool_use',
      'text',
    ]);
    expect(toolInputs(text)).toEqual([{ id: 'call_1', name: 'f', json: '{"a":1}' }]);
  });

  it('the Message names the model the client asked for, not the upstream one', () => {
    const ctx = contextFor('openai', { model: 'claude-haiku-4-5', max_tokens: 10, messages: [] });
    const message = translatorOf('openai').translateResponse!(
      {
        id: 'chatcmpl-9',
        model: 'gpt-4.1-mini',
        choices: [{ message: { content: 'x' }, finish_reason: 'stop' }],
      },
      ctx,
    ) as Record<string, unknown>;
    expect(message.model).toBe('claude-haiku-4-5');
    expect(message.id).toBe('msg_9');
  });
});

describe('Messages translators by protocol', () => {
  it('Anthropic is native; OpenAI, Gemini and Cohere are translated; image-only protocols have none', () => {
    expect(translatorOf('anthropic').translateResponse).toBeUndefined();
    expect(translatorOf('anthropic').createStreamTranslator).toBeUndefined();
    for (const protocol of ['openai', 'gemini', 'cohere'] as const) {
      expect(translatorOf(protocol).translateResponse).toBeTypeOf('function');
    }
    expect(messagesTranslatorFor('ideogram')).toBeUndefined();
  });
});
