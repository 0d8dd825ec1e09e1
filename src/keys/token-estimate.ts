// The tokens reserved before a call: about four bytes of request per prompt token, plus the
// output cap the request asks for (max_tokens, max_completion_tokens, or the Responses API's
// max_output_tokens; a modest default for chat when it asks for none). The answer's usage corrects
// it afterwards.
export const DEFAULT_OUTPUT_ESTIMATE = 256;

export function estimateTokens(
  rawBody: string,
  body: Readonly<Record<string, unknown>>,
  chat: boolean,
): number {
  const prompt = Math.ceil(rawBody.length / 4);
  const cap = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  if (typeof cap === 'number' && Number.isFinite(cap) && cap > 0) return prompt + Math.floor(cap);
  return prompt + (chat ? DEFAULT_OUTPUT_ESTIMATE : 0);
}

/** The same estimate in its two parts, for pricing it: prompt tokens and the output reserved. */
export function estimateParts(
  rawBody: string,
  body: Readonly<Record<string, unknown>>,
): { prompt: number; output: number } {
  const prompt = Math.ceil(rawBody.length / 4);
  const cap = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  const output =
    typeof cap === 'number' && Number.isFinite(cap) && cap > 0 ? Math.floor(cap) : DEFAULT_OUTPUT_ESTIMATE;
  return { prompt, output };
}
