import { wordsIn } from './anthropic-protocol.js';
import { splitWords, vectorFor } from './openai-protocol.js';
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

/**
 * Gemini 3 signs its function calls and refuses (400) a history whose calls of the current turn
 * (the model turns since the last user text) lost the signature of each step's first call. Like
 * the real service the emulator keeps no state: its signature encodes the call it signed.
 */
const SKIP_SIGNATURE = 'skip_thought_signature_validator';

function signsCalls(model: string): boolean {
  return model.startsWith('gemini-3');
}

function signatureOf(call: Record<string, unknown>): string {
  return Buffer.from(`emulator-thought:${String(call.name)}:${JSON.stringify(call.args ?? {})}`).toString(
    'base64',
  );
}

function signatureProblem(contents: unknown[]): string | undefined {
  const isUserText = (content: unknown) =>
    isRecord(content) &&
    content.role !== 'model' &&
    Array.isArray(content.parts) &&
    content.parts.some((part) => isRecord(part) && part.functionResponse === undefined);
  let start = 0;
  contents.forEach((content, i) => {
    if (isUserText(content)) start = i + 1;
  });
  for (let i = start; i < contents.length; i++) {
    const content = contents[i];
    if (!isRecord(content) || content.role !== 'model' || !Array.isArray(content.parts)) continue;
    const first = content.parts.find((part) => isRecord(part) && isRecord(part.functionCall));
    if (!isRecord(first) || !isRecord(first.functionCall)) continue;
    const signature = first.thoughtSignature;
    if (signature === undefined) {
      return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly. Additional data, function call \`default_api:${String(first.functionCall.name)}\` , position ${i + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`;
    }
    if (signature !== SKIP_SIGNATURE && signature !== signatureOf(first.functionCall))
      return 'Corrupted thought signature.';
  }
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
  const problem =
    problemWith(req.body) ??
    (signsCalls(model) && isRecord(req.body) && Array.isArray(req.body.contents)
      ? signatureProblem(req.body.contents)
      : undefined);
  if (problem !== undefined)
    return { type: 'json', status: 400, headers: {}, body: geminiErrorBody(400, problem) };

  const { behaviour } = ctx;
  const calls = (behaviour.toolCalls ?? []).map((call, n) => {
    const functionCall = { name: call.name, args: argsOf(call.arguments) };
    // Gemini 3 signs the first of a step's (parallel) calls only.
    return n === 0 && signsCalls(model)
      ? { functionCall, thoughtSignature: signatureOf(functionCall) }
      : { functionCall };
  });
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

const EMBED_ROUTE = /\/models\/([^/]+):(embedContent|batchEmbedContents)$/;
const EMBED_FIELDS = new Set(['model', 'content', 'taskType', 'title', 'outputDimensionality']);
const DEFAULT_EMBED_DIMENSIONS = 8;

/** One EmbedContentRequest, checked as the real API would; the vector's size, or the refusal. */
function embedProblem(request: unknown, model: string, where: string): string | number {
  if (!isRecord(request)) return `* ${where}: must be an object`;
  for (const key of Object.keys(request)) {
    if (!EMBED_FIELDS.has(key))
      return `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`;
  }
  if (request.model !== undefined && request.model !== `models/${model}`)
    return `* ${where}.model: model in the request must match the one in the URL (models/${model})`;
  const parts = isRecord(request.content) ? request.content.parts : undefined;
  if (
    !Array.isArray(parts) ||
    parts.length === 0 ||
    !parts.every((p) => isRecord(p) && typeof p.text === 'string')
  )
    return `* ${where}.content.parts: must hold at least one text part`;
  const dims = request.outputDimensionality;
  if (dims === undefined) return DEFAULT_EMBED_DIMENSIONS;
  return typeof dims === 'number' && Number.isInteger(dims) && dims > 0
    ? Math.min(dims, 3072)
    : `* ${where}.outputDimensionality: must be a positive integer`;
}

function textOf(request: unknown): string {
  const parts = isRecord(request) && isRecord(request.content) ? request.content.parts : [];
  return (Array.isArray(parts) ? parts : []).map((p) => (isRecord(p) ? String(p.text) : '')).join('');
}

/** embedContent → {embedding:{values}}; batchEmbedContents → {embeddings:[{values}]}, no usage. */
const embed: RouteHandler = (req: RecordedRequest): Reply => {
  const pathname = req.path.split('?')[0] ?? req.path;
  const [, model = 'unknown', method] = EMBED_ROUTE.exec(pathname) ?? [];
  const refuse = (message: string): Reply => ({
    type: 'json',
    status: 400,
    headers: {},
    body: geminiErrorBody(400, message),
  });
  const requests =
    method === 'embedContent'
      ? [req.body]
      : isRecord(req.body) && Array.isArray(req.body.requests)
        ? req.body.requests
        : undefined;
  if (requests === undefined || requests.length === 0) return refuse('* requests: must not be empty');
  if (
    method === 'batchEmbedContents' &&
    isRecord(req.body) &&
    Object.keys(req.body).some((k) => k !== 'requests')
  )
    return refuse('Invalid JSON payload received. Unknown name at batch level: Cannot find field.');
  const vectors: Array<{ values: number[] }> = [];
  for (const [i, request] of requests.entries()) {
    const size = embedProblem(request, model, method === 'embedContent' ? 'request' : `requests[${i}]`);
    if (typeof size === 'string') return refuse(size);
    vectors.push({ values: vectorFor(textOf(request), size) });
  }
  const body = method === 'embedContent' ? { embedding: vectors[0] } : { embeddings: vectors };
  return { type: 'json', status: 200, headers: {}, body };
};

const COUNT_ROUTE = /\/models\/([^/]+):countTokens$/;

/**
 * models.countTokens: `contents`, or a whole `generateContentRequest` (checked as generateContent
 * checks its body, its `model` matching the URL's), never both. The count is deterministic: the
 * words of every string in the request (generationConfig and model left out) plus 3.
 */
const countTokens: RouteHandler = (req: RecordedRequest): Reply => {
  const pathname = req.path.split('?')[0] ?? req.path;
  const [, model = 'unknown'] = COUNT_ROUTE.exec(pathname) ?? [];
  const refuse = (message: string): Reply => ({
    type: 'json',
    status: 400,
    headers: {},
    body: geminiErrorBody(400, message),
  });
  if (!isRecord(req.body)) return refuse('Invalid JSON payload received.');
  for (const key of Object.keys(req.body)) {
    if (key !== 'contents' && key !== 'generateContentRequest')
      return refuse(`Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
  }
  const { contents, generateContentRequest: whole } = req.body;
  if ((contents === undefined) === (whole === undefined))
    return refuse('Exactly one of contents or generateContentRequest must be set.');
  let counted: Record<string, unknown>;
  if (isRecord(whole)) {
    const { model: named, ...request } = whole;
    if (named !== `models/${model}`)
      return refuse(`* generateContentRequest.model: must match the model in the URL (models/${model})`);
    const problem = problemWith(request);
    if (problem !== undefined) return refuse(problem);
    const { generationConfig: _config, ...rest } = request;
    counted = rest;
  } else {
    const problem = problemWith({ contents });
    if (problem !== undefined) return refuse(problem);
    counted = { contents };
  }
  const totalTokens = wordsIn(counted) + 3;
  const body = { totalTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }] };
  return { type: 'json', status: 200, headers: {}, body };
};

export const geminiProtocol: Protocol = {
  route(method, pathname) {
    if (method !== 'POST') return undefined;
    if (EMBED_ROUTE.test(pathname)) return embed;
    if (COUNT_ROUTE.test(pathname)) return countTokens;
    return MODEL_ROUTE.test(pathname) ? generate : undefined;
  },
  errorBody: geminiErrorBody,
};
