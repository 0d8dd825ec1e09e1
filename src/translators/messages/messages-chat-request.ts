// Anthropic Messages request → OpenAI chat request, the hub every non-Anthropic chat translator
// takes. What the target cannot honour is dropped and named in the client's own vocabulary
// (`top_k`, `metadata.user_id`, `tool_choice.disable_parallel_tool_use`…), and what cannot be
// translated at all (a server tool, a Files API reference) is a 400 naming the field.
import { GatewayError } from '../../errors.js';
import { isRecord } from '../../json-guards.js';
import { maxTokensField } from '../chat-hub.js';
import { invalidParam as invalid } from '../request-params.js';
import type { ChatRequestBody } from '../types.js';
import type { ChatTarget, ThinkingRequest } from './chat-targets.js';
import { chatMessagesOf, systemTextOf } from './messages-content.js';
import type { Json, MessagesRequestBody } from './messages-types.js';

/** Messages fields this step translates; any other field is dropped and named. */
const HANDLED = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stream',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
  'output_config',
]);

/**
 * The chat fields an inner translator may drop, named as the client wrote them. The chat name
 * stays for anything else.
 */
const CLIENT_NAMES: Readonly<Record<string, string>> = {
  stop: 'stop_sequences',
  user: 'metadata.user_id',
  parallel_tool_calls: 'tool_choice.disable_parallel_tool_use',
  reasoning_effort: 'thinking',
  response_format: 'output_config.format',
  max_completion_tokens: 'max_tokens',
};

export function clientParamName(chatName: string): string {
  return CLIENT_NAMES[chatName] ?? chatName;
}

/** A custom tool as a function tool; Anthropic's server tools have no counterpart elsewhere. */
function functionTool(tool: unknown, index: number): Json {
  if (!isRecord(tool)) throw invalid(`tools[${index}]`, 'must be an object');
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    const name = typeof tool.name === 'string' ? ` "${tool.name}"` : '';
    throw new GatewayError(
      'invalid_request',
      `tools[${index}]: the Anthropic server tool${name} (type ${JSON.stringify(tool.type)}) runs only on Anthropic; this model's provider cannot serve it`,
      { param: 'tools' },
    );
  }
  if (typeof tool.name !== 'string') throw invalid(`tools[${index}].name`, 'is required');
  const fn: Json = { name: tool.name };
  if (typeof tool.description === 'string') fn.description = tool.description;
  fn.parameters = isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} };
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function chatToolChoice(choice: Json): unknown {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      if (typeof choice.name !== 'string') throw invalid('tool_choice.name', 'is required for type "tool"');
      return { type: 'function', function: { name: choice.name } };
    default:
      throw invalid('tool_choice.type', 'must be "auto", "any", "tool" or "none"');
  }
}

function addTools(body: MessagesRequestBody, chat: Json): void {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools))
    throw invalid('tools', 'must be an array');
  if (tools.length === 0) return; // tool_choice without tools asks for nothing.
  chat.tools = tools.map(functionTool);
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return;
  if (!isRecord(choice)) throw invalid('tool_choice', 'must be an object');
  chat.tool_choice = chatToolChoice(choice);
  if (choice.disable_parallel_tool_use === true && choice.type !== 'none') chat.parallel_tool_calls = false;
}

function thinkingOf(thinking: unknown): ThinkingRequest | undefined {
  if (!isRecord(thinking) || thinking.type === 'disabled') return undefined;
  if (thinking.type === 'adaptive') return { type: 'adaptive' };
  if (thinking.type === 'enabled') {
    if (typeof thinking.budget_tokens !== 'number' || !Number.isFinite(thinking.budget_tokens))
      throw invalid('thinking.budget_tokens', 'is required when thinking is enabled');
    return { type: 'enabled', budget: thinking.budget_tokens };
  }
  throw invalid('thinking.type', 'must be "enabled", "disabled" or "adaptive"');
}

/** output_config: a JSON schema `format` → response_format; anything else (effort…) is named. */
function addOutputConfig(config: unknown, chat: Json, dropped: string[]): void {
  if (!isRecord(config)) return;
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue;
    if (key === 'format' && isRecord(value) && value.type === 'json_schema' && isRecord(value.schema)) {
      chat.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: value.schema } };
    } else dropped.push(`output_config.${key}`);
  }
}

export interface ChatRequestTranslation {
  body: ChatRequestBody;
  /** Messages fields nobody will honour, as the client named them. */
  droppedParams: string[];
}

/** The chat body for `model` (the routed upstream model) and the Messages request `body`. */
export function messagesToChat(
  body: MessagesRequestBody,
  model: string,
  stream: boolean,
  target: ChatTarget,
): ChatRequestTranslation {
  const dropped: string[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (!HANDLED.has(field) && value !== undefined && value !== null) dropped.push(field);
  }
  if (!Array.isArray(body.messages)) throw invalid('messages', 'must be an array');

  const messages = chatMessagesOf(body.messages, target.pdf, target.toolSignatures === true);
  const system = systemTextOf(body.system);
  if (system !== undefined) messages.unshift({ role: 'system', content: system });
  const chat: Json = { model, messages };
  if (typeof body.max_tokens === 'number') chat[maxTokensField(model)] = body.max_tokens;
  if (body.temperature !== undefined && body.temperature !== null) chat.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) chat.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) chat.stop = body.stop_sequences;
  const user = isRecord(body.metadata) ? body.metadata.user_id : undefined;
  if (typeof user === 'string' && user !== '') chat.user = user;
  addTools(body, chat);

  const extra: Json = {};
  if (typeof body.top_k === 'number') {
    if (target.topK !== undefined) target.topK(body.top_k, extra);
    else dropped.push('top_k');
  }
  const thinking = thinkingOf(body.thinking);
  if (thinking !== undefined) target.thinking(thinking, chat, extra);
  addOutputConfig(body.output_config, chat, dropped);
  if (Object.keys(extra).length > 0) chat.extra_body = extra;
  if (stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return { body: chat as ChatRequestBody, droppedParams: dropped };
}
