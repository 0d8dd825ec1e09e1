import { splitWords } from './openai-protocol.js';
import { type AnswerContext, isRecord, type Protocol, type Reply, type RouteHandler } from './protocol.js';
import { sseData } from './sse.js';
import type { ChatBehaviour, RecordedRequest, UsageSpec } from './types.js';

/**
 * The Gemini native API (generateContent, streamGenerateContent?alt=sse), shapes as in
 * shared/reference/wire-formats.md §3. Strict like the real service: a body it would refuse gets
 * Google's 400 error shape, so a translator bug shows up as a failing call, not a silent pass.
 */

const RPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function geminiErrorBody(status: number, message: string): unknown {
  return { error: { code: status, message, status: RPC_STATUS[status] ?? 'UNKNOWN' } };
}

const TOP_LEVEL = new Set([
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'safetySettings',
  'generationConfig',
  'cachedContent',
]);
const PART_KINDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse'];
const GENERATION_FIELDS = new Set([
  'temperature',
  'topP',
  'topK',
  'candidateCount',
  'maxOutputTokens',
  'stopSequences',
  'presencePenalty',
  'frequencyPenalty',
  'seed',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseLogprobs',
  'logprobs',
  'thinkingConfig',
]);

/** What the real API would refuse, as its message; undefined when the body is acceptable. */
function problemWith(body: unknown): string | undefined {
  if (!isRecord(body)) return 'Invalid JSON payload received.';
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL.has(key))
      return `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`;
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) return '* contents: must not be empty';
  for (const [i, content] of body.contents.entries()) {
    if (!isRecord(content)) return `* contents[${i}]: must be an object`;
    if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
      return `Please use a valid role: user, model. (contents[${i}].role = ${JSON.stringify(content.role)})`;
    }
    if (!Array.isArray(content.parts) || content.parts.length === 0)
      return `* contents[${i}].parts: contents.parts must not be empty.`;
    for (const [j, part] of content.parts.entries()) {
      const kinds = isRecord(part) ? PART_KINDS.filter((kind) => part[kind] !== undefined) : [];
      if (kinds.length !== 1) return `* contents[${i}].parts[${j}]: exactly one data field must be set`;
      const response = isRecord(part) && isRecord(part.functionResponse) ? part.functionResponse : undefined;
      if (response !== undefined && !isRecord(response.response))
        return `* contents[${i}].parts[${j}].functionResponse.response: must be an object`;
    }
  }
  const config = body.generationConfig;
  if (config !== undefined) {
    if (!isRecord(config)) return '* generationConfig: must be an object';
    for (const key of Object.keys(config)) {
      if (!GENERATION_FIELDS.has(key))
        return `Invalid JSON payload received. Unknown name "${key}" at 'generation_config': Cannot find field.`;
    }
    if (config.responseSchema !== undefined && config.responseJsonSchema !== undefined)
      return 'responseSchema and responseJsonSchema are mutually exclusive.';
  }
  const calling = isRecord(body.toolConfig) ? body.toolConfig.functionCallingConfig : undefined;
  if (isRecord(calling) && calling.allowedFunctionNames !== undefined && calling.mode !== 'ANY')
    return 'allowedFunctionNames may only be set when mode is ANY.';
  return undefined;
}

const DEFAULT_USAGE: UsageSpec = { prompt_tokens: 10, completion_tokens: 5 };

function finishReasonOf(behaviour: ChatBehaviour): string {
  switch (behaviour.finishReason) {
    case undefined:
    case 'stop':
    case 'tool_calls':
      return 'STOP';
    case 'length':
      return 'MAX_TOKENS';
    case 'content_filter':
      return 'SAFETY';
    default:
      return behaviour.finishReason;
  }
}

function usageMetadata(behaviour: ChatBehaviour): Record<string, number> {
  const usage = behaviour.usage ?? DEFAULT_USAGE;
  return {
    promptTokenCount: usage.prompt_tokens,
    candidatesTokenCount: usage.completion_tokens,
    totalTokenCount: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
  };
}

function argsOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

const MODEL_ROUTE = /\/models\/([^/]+):(generateContent|streamGenerateContent)$/;

const generate: RouteHandler = (req: RecordedRequest, ctx: AnswerContext): Reply => {
  const pathname = req.path.split('?')[0] ?? req.path;
  const [, model = 'unknown', method] = MODEL_ROUTE.exec(pathname) ?? [];
  const problem = problemWith(req.body);
  if (problem !== undefined)
    return { type: 'json', status: 400, headers: {}, body: geminiErrorBody(400, problem) };

  const { behaviour } = ctx;
  const calls = (behaviour.toolCalls ?? []).map((call) => ({
    functionCall: { name: call.name, args: argsOf(call.arguments) },
  }));
  const text = behaviour.content ?? (calls.length > 0 ? undefined : `Hello from emulator (model ${model})`);
  const responseId = `emu-${ctx.next('response')}`;
  const common = { usageMetadata: usageMetadata(behaviour), modelVersion: model, responseId };
  const candidate = (parts: unknown[], finishReason?: string) => ({
    content: { parts, role: 'model' },
    ...(finishReason === undefined ? {} : { finishReason }),
    index: 0,
  });

  if (method === 'generateContent') {
    const parts = [...(text === undefined ? [] : [{ text }]), ...calls];
    return {
      type: 'json',
      status: 200,
      headers: {},
      body: { candidates: [candidate(parts, finishReasonOf(behaviour))], ...common },
    };
  }
  // One event per word, each function call whole in its own event, finishReason on the last.
  const pieces: unknown[][] = [
    ...splitWords(text ?? '').map((word) => [{ text: word }]),
    ...calls.map((c) => [c]),
  ];
  if (pieces.length === 0) pieces.push([{ text: '' }]);
  const events = pieces.map((parts, i) =>
    // Google ends its frames with CRLF pairs.
    sseData({
      candidates: [candidate(parts, i === pieces.length - 1 ? finishReasonOf(behaviour) : undefined)],
      ...common,
    }).replaceAll('\n', '\r\n'),
  );
  return {
    type: 'sse',
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    events,
  };
};

export const geminiProtocol: Protocol = {
  route(method, pathname) {
    return method === 'POST' && MODEL_ROUTE.test(pathname) ? generate : undefined;
  },
  errorBody: geminiErrorBody,
};
