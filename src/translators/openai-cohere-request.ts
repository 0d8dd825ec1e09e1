// OpenAI chat request → Cohere v2 chat request (shared/reference/wire-formats.md §4.1). Cohere v2
// is close to OpenAI's shape: the same four roles, OpenAI-like tool calls and image parts. The
// differences are names (p, stop_sequences), tool_choice in upper case without a named-function
// form, JSON mode as one `json_object` type with an optional schema, and `tool_plan` for the text
// an assistant writes beside its tool calls.
import { isRecord } from '../json-guards.js';
import {
  copyParams,
  functionCallOf,
  invalidParam as invalid,
  jsonSchemaOf,
  maxTokensOf,
  NEUTRAL_VALUES,
  stopSequences,
  textOf,
  droppedParams as unhandledParams,
  userContentParts,
} from './request-params.js';
import type { BuildContext, UpstreamRequest } from './types.js';

type Json = Record<string, unknown>;

/** OpenAI fields this translator maps (or consumes); every other field is dropped and named. */
const HANDLED = new Set([
  'model',
  'models',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'tools',
  'tool_choice',
  'response_format',
  'extra_body',
]);

/** Cohere may call several tools at once; that is OpenAI's default too. */
const NEUTRAL: Readonly<Json> = { ...NEUTRAL_VALUES, parallel_tool_calls: true };

function imagePart(part: Json, param: string): Json {
  const image = part.image_url;
  const url = typeof image === 'string' ? image : isRecord(image) ? image.url : undefined;
  if (typeof url !== 'string') throw invalid(`${param}.image_url.url`, 'must be a string');
  // Cohere takes both data: URIs and http(s) URLs in the same field, as OpenAI does.
  if (!/^data:[^;,]+;base64,/i.test(url) && !/^https?:\/\//i.test(url))
    throw invalid(`${param}.image_url.url`, 'must be a base64 data: URI or an http(s) URL');
  const detail = isRecord(image) ? image.detail : undefined;
  const out: Json = { url };
  if (detail === 'auto' || detail === 'low' || detail === 'high') out.detail = detail;
  return { type: 'image_url', image_url: out };
}

function userContent(content: unknown, param: string): string | Json[] {
  return userContentParts(content, param, imagePart);
}

function toolCall(call: unknown, param: string): Json {
  const { id, name, argumentsText } = functionCallOf(call, param);
  // Cohere keeps arguments as a JSON string, so the client's text travels unchanged.
  return { id, type: 'function', function: { name, arguments: argumentsText } };
}

function assistantMessage(message: Json, param: string): Json {
  const text = textOf(message.content, `${param}.content`);
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  if (calls.length === 0) return { role: 'assistant', content: text };
  // The text beside tool calls is what Cohere calls the tool plan; answers map it back to content.
  const out: Json = { role: 'assistant' };
  if (text !== '') out.tool_plan = text;
  out.tool_calls = calls.map((call, index) => toolCall(call, `${param}.tool_calls[${index}]`));
  return out;
}

function convertMessages(messages: unknown[]): Json[] {
  return messages.map((message, index): Json => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw invalid(param, 'must be an object');
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(message.content, `${param}.content`) };
      case 'user':
        return { role: 'user', content: userContent(message.content, `${param}.content`) };
      case 'assistant':
        return assistantMessage(message, param);
      case 'tool':
        if (typeof message.tool_call_id !== 'string') throw invalid(`${param}.tool_call_id`, 'is required');
        return {
          role: 'tool',
          tool_call_id: message.tool_call_id,
          content: textOf(message.content, `${param}.content`),
        };
      default:
        throw invalid(`${param}.role`, `role ${JSON.stringify(message.role)} is not supported`);
    }
  });
}

function convertTools(tools: unknown): Json[] {
  if (!Array.isArray(tools)) throw invalid('tools', 'must be an array');
  return tools.map((tool, index): Json => {
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function))
      throw invalid(`tools[${index}]`, 'only function tools are supported');
    const fn = tool.function;
    const out: Json = { name: fn.name };
    if (typeof fn.description === 'string') out.description = fn.description;
    // Cohere requires parameters; OpenAI lets a tool without arguments leave them out.
    out.parameters = isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
    return { type: 'function', function: out };
  });
}

/** Cohere has only REQUIRED and NONE; a named function has no equivalent and is dropped. */
function convertToolChoice(choice: unknown): string | 'dropped' | undefined {
  if (choice === undefined || choice === null || choice === 'auto') return undefined;
  if (choice === 'required') return 'REQUIRED';
  if (choice === 'none') return 'NONE';
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string')
    return 'dropped';
  throw invalid('tool_choice', 'must be "auto", "required", "none" or a named function');
}

function convertResponseFormat(format: unknown): Json | undefined {
  if (!isRecord(format) || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    return { type: 'json_object', json_schema: jsonSchemaOf(format) };
  }
  throw invalid('response_format.type', 'must be "text", "json_object" or "json_schema"');
}

/** Fields whose value goes to Cohere as given, under the same or another name. */
const COPIED: ReadonlyArray<[string, string]> = [
  ['temperature', 'temperature'],
  ['top_p', 'p'],
  ['seed', 'seed'],
  ['frequency_penalty', 'frequency_penalty'],
  ['presence_penalty', 'presence_penalty'],
];

export function buildCohereRequest(ctx: BuildContext): UpstreamRequest {
  const { body } = ctx;
  const droppedParams = unhandledParams(body, HANDLED, NEUTRAL);

  const out: Json = { model: ctx.model, messages: convertMessages(body.messages) };
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  if (hasTools) out.tools = convertTools(body.tools);
  const toolChoice = hasTools ? convertToolChoice(body.tool_choice) : undefined;
  if (toolChoice === 'dropped') droppedParams.push('tool_choice');
  else if (toolChoice !== undefined) out.tool_choice = toolChoice;

  const format = convertResponseFormat(body.response_format);
  if (format !== undefined) out.response_format = format;
  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined && maxTokens !== null) out.max_tokens = maxTokens;
  const stop = stopSequences(body.stop);
  if (stop !== undefined) out.stop_sequences = stop;
  copyParams(body, out, COPIED);
  if (ctx.stream) out.stream = true;
  if (isRecord(body.extra_body)) Object.assign(out, body.extra_body);

  return { path: '/v2/chat', body: JSON.stringify(out), headers: {}, droppedParams };
}
