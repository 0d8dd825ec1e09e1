// OpenAI chat request → Anthropic Messages request (shared/reference/wire-formats.md §2.2–2.4, 2.8).
// Anthropic wants system text at the top level, strictly alternating user/assistant turns, tool
// results inside user turns, tool inputs as objects and a max_tokens on every call.
import { isRecord } from '../json-guards.js';
import {
  copyParams,
  functionCallOf,
  invalidParam as invalid,
  jsonSchemaOf,
  maxTokensOf,
  stopSequences,
  textOf,
  droppedParams as unhandledParams,
  userContentParts,
} from './request-params.js';
import type { BuildContext, UpstreamRequest } from './types.js';

/** Anthropic requires max_tokens; OpenAI does not, so the gateway supplies one. */
export const DEFAULT_MAX_TOKENS = 4096;

type Block = Record<string, unknown>;

interface Turn {
  role: 'user' | 'assistant';
  /** A lone string stays a string on the wire; merged or multi-part turns become blocks. */
  content: string | Block[];
}

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
  'user',
  'safety_identifier',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'extra_body',
]);

const DATA_URI = /^data:([^;,]+);base64,(.*)$/s;

function imageBlock(part: Record<string, unknown>, param: string): Block {
  const image = part.image_url;
  const url = typeof image === 'string' ? image : isRecord(image) ? image.url : undefined;
  if (typeof url !== 'string') throw invalid(`${param}.image_url.url`, 'must be a string');
  const data = DATA_URI.exec(url);
  if (data !== null) {
    return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid(`${param}.image_url.url`, 'must be a base64 data: URI or an http(s) URL');
}

function userContent(content: unknown, param: string): string | Block[] {
  return userContentParts(content, param, imageBlock);
}

function toolUseBlock(call: unknown, param: string): Block {
  const { id, name, input } = functionCallOf(call, param);
  return { type: 'tool_use', id, name, input };
}

function assistantContent(message: Record<string, unknown>, param: string): string | Block[] {
  const text = textOf(message.content, `${param}.content`);
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  if (calls.length === 0) return text;
  // Anthropic refuses empty text blocks, so a tool-calling turn without text has only tool_use.
  const blocks: Block[] = text === '' ? [] : [{ type: 'text', text }];
  calls.forEach((call, index) => {
    blocks.push(toolUseBlock(call, `${param}.tool_calls[${index}]`));
  });
  return blocks;
}

function toolResultBlock(message: Record<string, unknown>, param: string): Block {
  if (typeof message.tool_call_id !== 'string') throw invalid(`${param}.tool_call_id`, 'is required');
  return {
    type: 'tool_result',
    tool_use_id: message.tool_call_id,
    content: textOf(message.content, `${param}.content`),
  };
}

function asBlocks(content: string | Block[]): Block[] {
  if (typeof content !== 'string') return content;
  return content === '' ? [] : [{ type: 'text', text: content }];
}

function pushTurn(turns: Turn[], turn: Turn): void {
  const last = turns.at(-1);
  if (last === undefined || last.role !== turn.role) {
    turns.push(turn);
    return;
  }
  last.content = [...asBlocks(last.content), ...asBlocks(turn.content)];
}

function convertMessages(messages: unknown[]): { system: string[]; turns: Turn[] } {
  const system: string[] = [];
  const turns: Turn[] = [];
  messages.forEach((message, index) => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw invalid(param, 'must be an object');
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(textOf(message.content, `${param}.content`));
        return;
      case 'user':
        pushTurn(turns, { role: 'user', content: userContent(message.content, `${param}.content`) });
        return;
      case 'assistant':
        pushTurn(turns, { role: 'assistant', content: assistantContent(message, param) });
        return;
      case 'tool':
        pushTurn(turns, { role: 'user', content: [toolResultBlock(message, param)] });
        return;
      default:
        throw invalid(`${param}.role`, `role ${JSON.stringify(message.role)} is not supported`);
    }
  });
  return { system, turns };
}

function convertTools(tools: unknown): Block[] {
  if (!Array.isArray(tools)) throw invalid('tools', 'must be an array');
  return tools.map((tool, index): Block => {
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function))
      throw invalid(`tools[${index}]`, 'only function tools are supported');
    const fn = tool.function;
    const out: Block = { name: fn.name };
    if (typeof fn.description === 'string') out.description = fn.description;
    out.input_schema = isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
    return out;
  });
}

function convertToolChoice(choice: unknown): Block | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string')
    return { type: 'tool', name: choice.function.name };
  throw invalid('tool_choice', 'must be "auto", "required", "none" or a named function');
}

/** Fields whose value goes to Anthropic as given. */
const COPIED: ReadonlyArray<[string, string]> = [
  ['temperature', 'temperature'],
  ['top_p', 'top_p'],
];

export function buildAnthropicRequest(ctx: BuildContext): UpstreamRequest {
  const { body } = ctx;
  const droppedParams = unhandledParams(body, HANDLED);

  const { system, turns } = convertMessages(body.messages);
  const out: Record<string, unknown> = { model: ctx.model };
  if (system.length > 0) out.system = system.join('\n\n');
  out.messages = turns;
  out.max_tokens = maxTokensOf(body) ?? DEFAULT_MAX_TOKENS;
  copyParams(body, out, COPIED);
  const stop = stopSequences(body.stop);
  if (stop !== undefined) out.stop_sequences = stop;
  const user = body.user ?? body.safety_identifier;
  if (typeof user === 'string') out.metadata = { user_id: user };

  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  if (hasTools) out.tools = convertTools(body.tools);
  const toolChoice = hasTools ? convertToolChoice(body.tool_choice) : undefined;
  if (hasTools && body.parallel_tool_calls === false && toolChoice?.type !== 'none') {
    out.tool_choice = { ...(toolChoice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  } else if (toolChoice !== undefined) {
    out.tool_choice = toolChoice;
  }

  const format = body.response_format;
  if (isRecord(format) && format.type === 'json_schema') {
    out.output_config = { format: { type: 'json_schema', schema: jsonSchemaOf(format) } };
  } else if (isRecord(format) && format.type === 'json_object') {
    // Anthropic has no schemaless JSON mode: the client is told it was not applied.
    droppedParams.push('response_format');
  }
  if (ctx.stream) out.stream = true;
  if (isRecord(body.extra_body)) Object.assign(out, body.extra_body);

  return { path: '/messages', body: JSON.stringify(out), headers: {}, droppedParams };
}
