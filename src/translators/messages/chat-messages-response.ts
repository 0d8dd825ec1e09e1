// OpenAI chat.completion → Anthropic Message, plus what the stream shares with it: the message id,
// stop reasons and usage. Reasoning text (`reasoning_content`, or `reasoning` as OpenRouter names
// it) becomes a thinking block with an empty signature: no provider but Anthropic signs one.
import { randomUUID } from 'node:crypto';
import { isRecord } from '../../json-guards.js';
import { reasoningTextOf } from '../chat-hub.js';
import { tokenCount } from '../openai-shapes.js';
import { chatToolSignature, toolUseIdOf } from '../tool-use-id.js';
import type { BuildContext } from '../types.js';
import type { Json } from './messages-types.js';

/** `chatcmpl-abc` → `msg_abc`; an id that is already a message id stays; none → a random one. */
export function messageIdOf(chatId: unknown): string {
  if (typeof chatId !== 'string' || chatId === '') return `msg_${randomUUID().replaceAll('-', '')}`;
  if (chatId.startsWith('msg_')) return chatId;
  return `msg_${chatId.startsWith('chatcmpl-') ? chatId.slice('chatcmpl-'.length) : chatId}`;
}

const STOP_REASONS: Readonly<Record<string, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/**
 * OpenAI's finish_reason as Anthropic's stop_reason. Some OpenAI-compatible servers (Ollama, a few
 * vLLM builds) say `stop` for a turn that called tools: the client must see tool_use to run them.
 * OpenAI does not say whether a stop sequence ended the turn, so `stop` is end_turn.
 */
export function stopReasonOf(finishReason: unknown, hasToolCalls: boolean): string {
  const mapped = typeof finishReason === 'string' ? STOP_REASONS[finishReason] : undefined;
  if (hasToolCalls && (mapped === undefined || mapped === 'end_turn')) return 'tool_use';
  return mapped ?? 'end_turn';
}

export interface MessagesUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
  /** The reasoning share of output_tokens, where the upstream said (priced at its own rate). */
  output_tokens_details?: { thinking_tokens: number };
}

/**
 * OpenAI's prompt_tokens counts cached tokens; Anthropic's input_tokens does not. Cached tokens
 * come as prompt_tokens_details.cached_tokens (DeepSeek: prompt_cache_hit_tokens), tokens written
 * to a cache as prompt_tokens_details.cache_write_tokens (OpenRouter); reasoning tokens
 * (completion_tokens_details.reasoning_tokens) as output_tokens_details.thinking_tokens.
 */
export function messagesUsageOf(usage: unknown): MessagesUsage {
  const u = isRecord(usage) ? usage : {};
  const details = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const cached = tokenCount(details.cached_tokens ?? u.prompt_cache_hit_tokens);
  const written = tokenCount(details.cache_write_tokens);
  const out: MessagesUsage = {
    input_tokens: Math.max(0, tokenCount(u.prompt_tokens) - cached - written),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    output_tokens: tokenCount(u.completion_tokens),
  };
  const completion = isRecord(u.completion_tokens_details) ? u.completion_tokens_details : {};
  const reasoning = tokenCount(completion.reasoning_tokens);
  if (reasoning > 0) out.output_tokens_details = { thinking_tokens: reasoning };
  return out;
}

/** The model the client asked for, which the Message names whatever model served it. */
export function clientModelOf(ctx: BuildContext): string {
  return typeof ctx.body.model === 'string' ? ctx.body.model : ctx.model;
}

/**
 * Tool-call arguments as the tool_use input object. Arguments that are not a JSON object (a
 * model's malformed output) become `{}`: Anthropic's input is always an object, and the answer is
 * still worth delivering; the turn's tool result then tells the model what went wrong.
 */
export function toolInputOf(args: unknown): Json {
  if (isRecord(args)) return args;
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function toolUseBlock(call: unknown, position: number, messageId: string): Json | undefined {
  if (!isRecord(call)) return undefined;
  const fn = isRecord(call.function) ? call.function : {};
  const id = toolUseIdOf(
    typeof call.id === 'string' && call.id !== '' ? call.id : `toolu_${messageId.slice(4)}_${position}`,
    chatToolSignature(call),
  );
  const name = typeof fn.name === 'string' ? fn.name : '';
  return { type: 'tool_use', id, name, input: toolInputOf(fn.arguments) };
}

export function chatToMessages(completion: unknown, ctx: BuildContext): Json {
  const answer = isRecord(completion) ? completion : {};
  const choices = Array.isArray(answer.choices) ? answer.choices : [];
  const choice = isRecord(choices[0]) ? choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const id = messageIdOf(answer.id);

  const content: Json[] = [];
  const reasoning = reasoningTextOf(message);
  if (reasoning !== undefined) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  if (typeof message.content === 'string' && message.content !== '')
    content.push({ type: 'text', text: message.content });
  const refused = typeof message.refusal === 'string' && message.refusal !== '';
  if (refused) content.push({ type: 'text', text: message.refusal });
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((call, position) => {
    const block = toolUseBlock(call, position, id);
    if (block !== undefined) content.push(block);
  });
  const hasToolCalls = content.some((block) => block.type === 'tool_use');

  return {
    id,
    type: 'message',
    role: 'assistant',
    model: clientModelOf(ctx),
    content,
    stop_reason: refused ? 'refusal' : stopReasonOf(choice.finish_reason, hasToolCalls),
    stop_sequence: null,
    usage: messagesUsageOf(answer.usage),
  };
}
