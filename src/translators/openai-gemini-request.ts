// OpenAI chat request → Gemini `generateContent` request (wire-formats.md §3.2, §3.7). Input is
// only schema-validated at the boundary, so message parts are read defensively; what cannot be
// translated is rejected with a 400 naming the field, never guessed at.
import { GatewayError } from '../errors.js';
import { isRecord } from '../json-guards.js';
import { geminiModelPath } from './gemini-model-path.js';
import { copyParams, maxTokensOf, stopSequences } from './request-params.js';
import type { BuildContext, UpstreamRequest } from './types.js';

type Json = Record<string, unknown>;

interface GeminiContent {
  role: 'user' | 'model';
  parts: Json[];
}

/** Request fields this translator consumes; any other client field is dropped and named. */
const HANDLED = new Set([
  'model',
  'models',
  'messages',
  'stream',
  'stream_options',
  'extra_body',
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'response_format',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'n',
  'seed',
  'presence_penalty',
  'frequency_penalty',
]);

/** Extension → MIME type for http(s) image URLs sent as `fileData`, which requires one. */
const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function guessMimeType(url: string): string {
  let pathname = url;
  try {
    pathname = new URL(url).pathname;
  } catch {
    // Not a URL the WHATWG parser accepts: fall back to the raw text's extension.
  }
  const dot = pathname.lastIndexOf('.');
  const extension = dot === -1 ? '' : pathname.slice(dot + 1).toLowerCase();
  return MIME_BY_EXTENSION[extension] ?? 'image/jpeg';
}

function imagePart(part: Json, param: string): Json {
  const image = part.image_url;
  const url = isRecord(image) ? image.url : image;
  if (typeof url !== 'string' || url === '')
    throw invalid('image_url.url must be a non-empty string.', param);
  if (url.startsWith('data:')) {
    const match = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s.exec(url);
    if (match === null)
      throw invalid('An image data: URI must be base64-encoded: data:<mime>;base64,….', param);
    return { inlineData: { mimeType: match[1], data: match[2] } };
  }
  return { fileData: { mimeType: guessMimeType(url), fileUri: url } };
}

function contentParts(content: unknown, param: string): Json[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw invalid('content must be a string or an array of parts.', param);
  return content.flatMap((part, index): Json[] => {
    const where = `${param}[${index}]`;
    if (!isRecord(part)) throw invalid('A content part must be an object.', where);
    switch (part.type) {
      case 'text':
        return typeof part.text === 'string' && part.text !== '' ? [{ text: part.text }] : [];
      case 'image_url':
        return [imagePart(part, where)];
      case 'input_audio': {
        const audio = isRecord(part.input_audio) ? part.input_audio : {};
        const format = typeof audio.format === 'string' ? audio.format : 'wav';
        return [{ inlineData: { mimeType: `audio/${format}`, data: audio.data } }];
      }
      case 'refusal':
        return [];
      default:
        throw invalid(`Content part type ${JSON.stringify(part.type)} cannot be sent to Gemini.`, where);
    }
  });
}

/** Text of a system or tool message, whose parts are text only. */
function plainText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function parseArguments(text: unknown, param: string): Json {
  if (text === undefined || text === null || text === '') return {};
  if (typeof text !== 'string') throw invalid('function.arguments must be a JSON string.', param);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('function.arguments is not valid JSON; Gemini needs the arguments as an object.', param);
  }
  if (!isRecord(parsed)) throw invalid('function.arguments must encode a JSON object.', param);
  return parsed;
}

/**
 * The thoughtSignature a tool call carries back, where our answers put it (and Google's own
 * OpenAI-compatible layer does): `extra_content.google.thought_signature`.
 */
function thoughtSignatureOf(call: unknown): string | undefined {
  const extra = isRecord(call) ? call.extra_content : undefined;
  const google = isRecord(extra) ? extra.google : undefined;
  const signature = isRecord(google) ? google.thought_signature : undefined;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

/** A tool result as Gemini wants it: always an object, the result under `output`. */
function functionResponse(name: string, content: unknown): Json {
  const text = plainText(content);
  let output: unknown = text;
  try {
    output = JSON.parse(text);
  } catch {
    // Plain text results stay strings.
  }
  return { functionResponse: { name, response: { output } } };
}

interface Translated {
  systemParts: Json[];
  contents: GeminiContent[];
}

function translateMessages(messages: unknown[]): Translated {
  const systemParts: Json[] = [];
  const contents: GeminiContent[] = [];
  // Tool-call id → function name, from earlier assistant turns; Gemini matches results by name.
  const callNames = new Map<string, string>();
  const push = (role: GeminiContent['role'], parts: Json[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    // Gemini wants turns to alternate; consecutive same-role messages become one turn.
    if (last !== undefined && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((message, index) => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw invalid('A message must be an object.', param);
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = plainText(message.content);
        if (text !== '') systemParts.push({ text });
        return;
      }
      case 'user':
        push('user', contentParts(message.content, `${param}.content`));
        return;
      case 'assistant': {
        const parts = contentParts(message.content, `${param}.content`);
        const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
        calls.forEach((call, callIndex) => {
          const where = `${param}.tool_calls[${callIndex}]`;
          const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
          if (fn === undefined || typeof fn.name !== 'string')
            throw invalid('A tool call needs function.name.', where);
          if (isRecord(call) && typeof call.id === 'string') callNames.set(call.id, fn.name);
          const part: Json = {
            functionCall: {
              name: fn.name,
              args: parseArguments(fn.arguments, `${where}.function.arguments`),
            },
          };
          // Gemini 3 refuses a history whose function calls lost the signature it gave them.
          const signature = thoughtSignatureOf(call);
          if (signature !== undefined) part.thoughtSignature = signature;
          parts.push(part);
        });
        if (isRecord(message.function_call) && typeof message.function_call.name === 'string') {
          const fn = message.function_call;
          parts.push({
            functionCall: {
              name: fn.name,
              args: parseArguments(fn.arguments, `${param}.function_call.arguments`),
            },
          });
        }
        push('model', parts);
        return;
      }
      case 'tool': {
        const id = typeof message.tool_call_id === 'string' ? message.tool_call_id : '';
        const name = callNames.get(id) ?? (typeof message.name === 'string' ? message.name : undefined);
        if (name === undefined) {
          throw invalid(
            `tool_call_id ${JSON.stringify(id)} matches no tool call of an earlier assistant message.`,
            `${param}.tool_call_id`,
          );
        }
        push('user', [functionResponse(name, message.content)]);
        return;
      }
      case 'function': {
        if (typeof message.name !== 'string')
          throw invalid('A function message needs a name.', `${param}.name`);
        push('user', [functionResponse(message.name, message.content)]);
        return;
      }
      default:
        throw invalid(`Role ${JSON.stringify(message.role)} cannot be sent to Gemini.`, `${param}.role`);
    }
  });
  return { systemParts, contents };
}

function functionDeclaration(fn: Json): Json {
  const declaration: Json = { name: fn.name };
  if (typeof fn.description === 'string') declaration.description = fn.description;
  // Plain JSON Schema, as OpenAI clients write it; `parameters` would need the OpenAPI subset.
  if (isRecord(fn.parameters)) declaration.parametersJsonSchema = fn.parameters;
  return declaration;
}

function toolDeclarations(body: Json, dropped: string[]): Json[] | undefined {
  const declarations: Json[] = [];
  if (Array.isArray(body.tools)) {
    body.tools.forEach((tool, index) => {
      if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
        throw invalid('Only tools of type "function" can be sent to Gemini.', `tools[${index}]`);
      }
      declarations.push(functionDeclaration(tool.function));
    });
  }
  if (Array.isArray(body.functions)) {
    for (const fn of body.functions) if (isRecord(fn)) declarations.push(functionDeclaration(fn));
  }
  if (declarations.length === 0) {
    if (body.tool_choice !== undefined && !dropped.includes('tool_choice')) dropped.push('tool_choice');
    return undefined;
  }
  return [{ functionDeclarations: declarations }];
}

function functionCallingConfig(choice: unknown, param: string): Json | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  const name = isRecord(choice)
    ? isRecord(choice.function)
      ? choice.function.name
      : choice.name
    : undefined;
  if (typeof name === 'string') return { mode: 'ANY', allowedFunctionNames: [name] };
  throw invalid(`${param} must be "auto", "none", "required" or name a function.`, param);
}

/** Fields whose value goes into generationConfig as given, under Gemini's name. */
const SAMPLING: ReadonlyArray<[string, string]> = [
  ['temperature', 'temperature'],
  ['top_p', 'topP'],
];
const CHOICES: ReadonlyArray<[string, string]> = [
  ['n', 'candidateCount'],
  ['seed', 'seed'],
  ['presence_penalty', 'presencePenalty'],
  ['frequency_penalty', 'frequencyPenalty'],
];

function generationConfig(body: Json): Json {
  const config: Json = {};
  copyParams(body, config, SAMPLING);
  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined && maxTokens !== null) config.maxOutputTokens = maxTokens;
  const stop = stopSequences(body.stop);
  if (stop !== undefined) config.stopSequences = stop;
  copyParams(body, config, CHOICES);
  const format = body.response_format;
  if (isRecord(format)) {
    if (format.type === 'json_object') config.responseMimeType = 'application/json';
    else if (format.type === 'json_schema') {
      config.responseMimeType = 'application/json';
      const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
      if (isRecord(schema)) config.responseJsonSchema = schema;
    } else if (format.type !== 'text') {
      throw invalid(
        `response_format type ${JSON.stringify(format.type)} is not supported.`,
        'response_format',
      );
    }
  }
  return config;
}

/**
 * `extra_body` goes in as given; where both sides hold an object (say `generationConfig`) the
 * two are merged one level deep, so adding `thinkingConfig` keeps the translated settings.
 */
function mergeExtra(request: Json, extra: unknown): void {
  if (!isRecord(extra)) return;
  for (const [key, value] of Object.entries(extra)) {
    const current = request[key];
    request[key] = isRecord(current) && isRecord(value) ? { ...current, ...value } : value;
  }
}

export function geminiPath(model: string, stream: boolean): string {
  const name = geminiModelPath(model);
  return stream ? `/models/${name}:streamGenerateContent?alt=sse` : `/models/${name}:generateContent`;
}

export function buildGeminiRequest(ctx: BuildContext): UpstreamRequest {
  const body = ctx.body as Json;
  const droppedParams = Object.keys(body).filter((key) => !HANDLED.has(key) && body[key] !== undefined);
  const { systemParts, contents } = translateMessages(ctx.body.messages);
  const request: Json = { contents };
  if (systemParts.length > 0) request.systemInstruction = { parts: systemParts };
  const tools = toolDeclarations(body, droppedParams);
  if (tools !== undefined) {
    request.tools = tools;
    const choice = body.tool_choice ?? body.function_call;
    const config = functionCallingConfig(
      choice,
      body.tool_choice === undefined ? 'function_call' : 'tool_choice',
    );
    if (config !== undefined) request.toolConfig = { functionCallingConfig: config };
  }
  const config = generationConfig(body);
  if (Object.keys(config).length > 0) request.generationConfig = config;
  mergeExtra(request, body.extra_body);
  return {
    path: geminiPath(ctx.model, ctx.stream),
    body: JSON.stringify(request),
    headers: {},
    droppedParams,
  };
}
