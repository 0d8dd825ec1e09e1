// What the dialects that reach providers through the OpenAI chat hub (Anthropic Messages, OpenAI
// Responses) share about chat itself: which field carries an output-token limit, and where an
// OpenAI-compatible answer puts its reasoning text.

type Json = Record<string, unknown>;

/**
 * OpenAI's reasoning models (o1, o3, o4-mini, gpt-5…) refuse `max_tokens` and want
 * `max_completion_tokens`; other OpenAI-compatible servers know only `max_tokens` reliably.
 */
const REASONING_MODEL = /^(?:openai\/)?(?:o\d|gpt-5)/i;

export function maxTokensField(model: string): 'max_tokens' | 'max_completion_tokens' {
  return REASONING_MODEL.test(model) ? 'max_completion_tokens' : 'max_tokens';
}

/** A reasoning delta or message field, under either name OpenAI-compatible servers use. */
export function reasoningTextOf(record: Json): string | undefined {
  const text = record.reasoning_content ?? record.reasoning;
  return typeof text === 'string' && text !== '' ? text : undefined;
}
