// Small pieces of OpenAI's response shapes that every translator builds.

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/** OpenAI's `created`: unix seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
