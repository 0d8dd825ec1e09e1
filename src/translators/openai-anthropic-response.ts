// Anthropic Messages answer → OpenAI chat.completion, plus the pieces the stream shares: finish
// reasons, usage and errors (shared/reference/wire-formats.md §2.5, §2.7).

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
import type { UpstreamErrorDetail } from './types.js';

const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export function finishReasonOf(stopReason: unknown): string {
  return mappedFinishReason(FINISH_REASONS, stopReason);
}

/**
 * Anthropic's input_tokens excludes cached tokens; OpenAI's prompt_tokens counts them all: reads
 * become prompt_tokens_details.cached_tokens and writes cache_write_tokens.
 * output_tokens includes thinking. The thinking share comes as
 * `output_tokens_details.thinking_tokens` (current models; in a stream on the last
 * message_delta) and becomes reasoning_tokens. Where the wire has no such count it is left out,
 * not estimated: Claude 4 models return summarized (or redacted) thinking text while billing
 * the full thinking, so a count made from the text would be wrong.
 */
export function usageOf(usage: unknown): OpenAIUsage {
  const u = isRecord(usage) ? usage : {};
  const cached = tokenCount(u.cache_read_input_tokens);
  const written = tokenCount(u.cache_creation_input_tokens);
  const prompt = tokenCount(u.input_tokens) + written + cached;
  const out = openAIUsage(prompt, tokenCount(u.output_tokens), cached);
  // Cache writes cost more than input (1.25×): they keep their own count, as OpenRouter reports it.
  if (written > 0) out.prompt_tokens_details = { cached_tokens: cached, cache_write_tokens: written };
  const details = isRecord(u.output_tokens_details) ? u.output_tokens_details : {};
  if (typeof details.thinking_tokens === 'number' && Number.isFinite(details.thinking_tokens))
    out.completion_tokens_details = { reasoning_tokens: details.thinking_tokens };
  return out;
}

export function translateAnthropicResponse(upstream: unknown): unknown {
  const message = isRecord(upstream) ? upstream : {};
  const blocks = Array.isArray(message.content) ? message.content : [];
  let text = '';
  const toolCalls: unknown[] = [];
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // thinking / redacted_thinking and server-tool blocks have no OpenAI field: left out.
  }
  return singleChoiceCompletion(
    message.id,
    message.model,
    assistantMessage(text, toolCalls),
    finishReasonOf(message.stop_reason),
    usageOf(message.usage),
  );
}

/** `{"type":"error","error":{"type","message"}}`; anything else is read as OpenAI's shape or text. */
export function anthropicErrorDetail(status: number, body: string): UpstreamErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (isRecord(parsed) && isRecord(parsed.error) && typeof parsed.error.message === 'string') {
    const type = parsed.error.type;
    return {
      message: parsed.error.message,
      type: typeof type === 'string' ? type : null,
      code: null,
      param: null,
    };
  }
  return openAIErrorDetail(status, body);
}
