// Cohere v2 chat answer → OpenAI chat.completion, plus the pieces the stream shares: finish
// reasons, usage and errors (shared/reference/wire-formats.md §4.1).
import { isRecord } from '../json-guards.js';
import { openAIErrorDetail } from './openai-passthrough.js';
import {
  assistantMessage,
  mappedFinishReason,
  type OpenAIUsage,
  openAIUsage,
  singleChoiceCompletion,
  tokenCount,
} from './openai-shapes.js';
import type { BuildContext, UpstreamErrorDetail } from './types.js';

/** ERROR and TIMEOUT end the answer without a better OpenAI name: `stop`, as LiteLLM maps them. */
const FINISH_REASONS: Record<string, string> = {
  COMPLETE: 'stop',
  STOP_SEQUENCE: 'stop',
  MAX_TOKENS: 'length',
  TOOL_CALL: 'tool_calls',
  ERROR: 'stop',
  TIMEOUT: 'stop',
};

export function cohereFinishReason(reason: unknown): string {
  return mappedFinishReason(FINISH_REASONS, reason);
}

/**
 * `billed_units` is what Cohere charges for, and so what usage (and the gateway's cost) counts;
 * `tokens` (what the model read and wrote, the prompt template included: much more input) only
 * for a count the billed units lack. `cached_tokens` counts within `tokens`: billed input is all
 * charged as input, so a cache count goes with `tokens` only.
 */
export function cohereUsage(usage: unknown): OpenAIUsage {
  const u = isRecord(usage) ? usage : {};
  const billed = isRecord(u.billed_units) ? u.billed_units : {};
  const tokens = isRecord(u.tokens) ? u.tokens : {};
  const billedInput = billed.input_tokens !== undefined;
  const prompt = tokenCount(billedInput ? billed.input_tokens : tokens.input_tokens);
  const completion = tokenCount(billed.output_tokens ?? tokens.output_tokens);
  const cached = billedInput ? 0 : Math.min(tokenCount(u.cached_tokens), prompt);
  return openAIUsage(prompt, completion, cached);
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  // Thinking parts have no OpenAI field: left out.
  return content
    .map((part) => (isRecord(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/**
 * Cohere answers a call of a tool without parameters with `arguments: "null"` (or nothing);
 * OpenAI clients parse the arguments into an object, so such a call gets "{}".
 */
function argumentsOf(value: unknown): string {
  if (value === undefined || value === null || value === '' || value === 'null') return '{}';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function toolCallOf(call: unknown): unknown {
  const c = isRecord(call) ? call : {};
  const fn = isRecord(c.function) ? c.function : {};
  const args = argumentsOf(fn.arguments);
  return { id: c.id, type: 'function', function: { name: fn.name, arguments: args } };
}

export function translateCohereResponse(upstream: unknown, ctx: BuildContext): unknown {
  const answer = isRecord(upstream) ? upstream : {};
  const message = isRecord(answer.message) ? answer.message : {};
  const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls.map(toolCallOf) : [];
  // With tool calls Cohere puts its text in tool_plan; requests send it back the same way.
  const plan = toolCalls.length > 0 && typeof message.tool_plan === 'string' ? message.tool_plan : '';
  const text = plan + textOf(message.content);
  return singleChoiceCompletion(
    answer.id,
    // Cohere's answer does not name the model; the one asked for is the best there is.
    ctx.model,
    assistantMessage(text, toolCalls),
    cohereFinishReason(answer.finish_reason),
    cohereUsage(answer.usage),
  );
}

function typeForStatus(status: number): string {
  if (status === 401 || status === 498) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** `{"message"}` or `{"id","message"}`: the message is kept, the type follows the status. */
export function cohereErrorDetail(status: number, body: string): UpstreamErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (isRecord(parsed) && typeof parsed.message === 'string' && parsed.error === undefined) {
    return { message: parsed.message, type: typeForStatus(status), code: null, param: null };
  }
  return openAIErrorDetail(status, body);
}
