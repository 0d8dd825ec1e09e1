import {
  type AnswerContext,
  isRecord,
  type Protocol,
  pathEndsWith,
  type Reply,
  type RouteHandler,
} from './protocol.js';
import { sseData } from './sse.js';
import type { ChatBehaviour, RecordedRequest, ToolCallSpec, UsageSpec } from './types.js';

/**
 * The OpenAI wire protocol (also spoken by OpenRouter, Groq and Ollama's /v1), shapes as in
 * shared/reference/wire-formats.md §1.
 */

/** A chat answer's usage: the three counts (the Responses-only details are not sent here). */
type ChatUsage = Required<Pick<UsageSpec, 'prompt_tokens' | 'completion_tokens' | 'total_tokens'>>;

const DEFAULT_USAGE: UsageSpec = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
// A fixed timestamp keeps answers reproducible between runs.
const CREATED = 1_700_000_000;
const DEFAULT_EMBEDDING_DIMENSIONS = 8;

function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function openAiErrorBody(status: number, message: string): unknown {
  return { error: { message, type: errorType(status), param: null, code: null } };
}

function requestId(ctx: AnswerContext): Record<string, string> {
  return { 'x-request-id': `req_emu_${ctx.next('request')}` };
}

function usageOf(behaviour: ChatBehaviour): ChatUsage {
  const usage = behaviour.usage ?? DEFAULT_USAGE;
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
  };
}

/** Word-sized deltas (leading whitespace kept with its word) so the pieces concatenate exactly. */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Argument fragments: at least two for any string of two or more characters. */
export function splitFragments(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const fragments: string[] = [];
  for (let start = 0; start < text.length; start += size) fragments.push(text.slice(start, start + size));
  return fragments;
}

interface ChatAnswer {
  id: string;
  model: string;
  content: string | null;
  toolCalls: Array<Required<ToolCallSpec>>;
  finishReason: string;
  usage: ChatUsage;
}

function planChat(req: RecordedRequest, ctx: AnswerContext): ChatAnswer {
  const body = isRecord(req.body) ? req.body : {};
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const { behaviour } = ctx;
  const specs = behaviour.toolCalls ?? [];
  const toolCalls = specs.map((call) => ({
    id: call.id ?? `call_emu_${ctx.next('tool-call')}`,
    name: call.name,
    arguments: call.arguments,
  }));
  // A tool-calling turn has null content unless the script asks for both.
  const fallback = toolCalls.length > 0 ? null : `Hello from emulator (model ${model})`;
  return {
    id: `chatcmpl-emu-${ctx.next('chatcmpl')}`,
    model,
    content: behaviour.content ?? fallback,
    toolCalls,
    finishReason: behaviour.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: usageOf(behaviour),
  };
}

function chatJson(answer: ChatAnswer): unknown {
  const message: Record<string, unknown> = { role: 'assistant', content: answer.content, refusal: null };
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    id: answer.id,
    object: 'chat.completion',
    created: CREATED,
    model: answer.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finishReason }],
    usage: answer.usage,
  };
}

function chatEvents(answer: ChatAnswer, includeUsage: boolean): string[] {
  // With include_usage every chunk carries `usage: null` except the final usage chunk.
  const chunk = (choices: unknown[], usage: unknown = null): string =>
    sseData({
      id: answer.id,
      object: 'chat.completion.chunk',
      created: CREATED,
      model: answer.model,
      choices,
      ...(includeUsage ? { usage } : {}),
    });
  const choice = (delta: Record<string, unknown>, finishReason: string | null = null): unknown => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });

  const events = [chunk([choice({ role: 'assistant', content: answer.content === null ? null : '' })])];
  for (const piece of splitWords(answer.content ?? '')) events.push(chunk([choice({ content: piece })]));
  answer.toolCalls.forEach((call, index) => {
    // First fragment names the call; later ones carry only index + an arguments substring.
    const head = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    events.push(chunk([choice({ tool_calls: [head] })]));
    for (const fragment of splitFragments(call.arguments)) {
      events.push(chunk([choice({ tool_calls: [{ index, function: { arguments: fragment } }] })]));
    }
  });
  events.push(chunk([choice({}, answer.finishReason)]));
  if (includeUsage) events.push(chunk([], answer.usage));
  events.push(sseData('[DONE]'));
  return events;
}

const chatCompletions: RouteHandler = (req, ctx): Reply => {
  const body = isRecord(req.body) ? req.body : {};
  const answer = planChat(req, ctx);
  if (body.stream !== true) {
    return { type: 'json', status: 200, headers: requestId(ctx), body: chatJson(answer) };
  }
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  return {
    type: 'sse',
    status: 200,
    headers: { ...requestId(ctx), 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    events: chatEvents(answer, includeUsage),
  };
};

/** Inputs as the API accepts them: a string, strings, a token array, or token arrays. */
function embeddingInputs(input: unknown): unknown[] {
  if (!Array.isArray(input)) return [input];
  const items: unknown[] = input;
  if (items.length > 0 && items.every((item) => typeof item === 'number')) return [items];
  return items;
}

/** A deterministic vector per input, so tests can compare answers without fixtures. */
export function vectorFor(input: unknown, dimensions: number): number[] {
  const text = JSON.stringify(input) ?? '';
  let seed = 7;
  for (const char of text) seed = (seed * 31 + (char.codePointAt(0) ?? 0)) % 1_000_003;
  return Array.from({ length: dimensions }, (_, i) =>
    Number((((seed * (i + 1)) % 2000) / 1000 - 1).toFixed(4)),
  );
}

const embeddings: RouteHandler = (req, ctx): Reply => {
  const body = isRecord(req.body) ? req.body : {};
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const dimensions =
    typeof body.dimensions === 'number' && Number.isInteger(body.dimensions) && body.dimensions > 0
      ? Math.min(body.dimensions, 4096)
      : DEFAULT_EMBEDDING_DIMENSIONS;
  const inputs = embeddingInputs(body.input);
  const promptTokens =
    ctx.behaviour.usage?.prompt_tokens ??
    inputs.reduce<number>(
      (sum, input) => sum + Math.max(1, splitWords(typeof input === 'string' ? input : '').length),
      0,
    );
  return {
    type: 'json',
    status: 200,
    headers: requestId(ctx),
    body: {
      object: 'list',
      data: inputs.map((input, index) => ({
        object: 'embedding',
        index,
        embedding:
          body.encoding_format === 'base64'
            ? Buffer.from(new Float32Array(vectorFor(input, dimensions)).buffer).toString('base64')
            : vectorFor(input, dimensions),
      })),
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
  };
};

const ROUTES: Array<{ method: string; suffix: string; handler: RouteHandler }> = [
  { method: 'POST', suffix: '/chat/completions', handler: chatCompletions },
  { method: 'POST', suffix: '/embeddings', handler: embeddings },
];

export const openAiProtocol: Protocol = {
  route(method, pathname) {
    return ROUTES.find((r) => r.method === method && pathEndsWith(pathname, r.suffix))?.handler;
  },
  errorBody: openAiErrorBody,
};
