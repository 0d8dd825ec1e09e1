// Small pieces of OpenAI's response shapes that every translator builds.

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** cache_write_tokens: prompt tokens written to the cache (OpenRouter's field), where there were any. */
  prompt_tokens_details?: { cached_tokens: number; cache_write_tokens?: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

/** OpenAI's `created`: unix seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A token count from an upstream's usage: anything but a finite number counts as 0. */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** OpenAI's usage from prompt, completion and cached-prompt counts. */
export function openAIUsage(prompt: number, completion: number, cached: number): OpenAIUsage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

/** A provider's stop reason through its table of OpenAI finish reasons; `stop` when unknown. */
export function mappedFinishReason(table: Readonly<Record<string, string>>, reason: unknown): string {
  return typeof reason === 'string' ? (table[reason] ?? 'stop') : 'stop';
}

/** The assistant message of a chat.completion choice: content is null when only tools were called. */
export function assistantMessage(text: string, toolCalls: readonly unknown[]): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

/** A chat.completion with its one choice. */
export function singleChoiceCompletion(
  id: unknown,
  model: unknown,
  message: Record<string, unknown>,
  finishReason: string,
  usage: OpenAIUsage,
): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    usage,
  };
}
