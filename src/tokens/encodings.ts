// Which OpenAI BPE encoding counts a model's tokens, and that encoding's counter, loaded on first
// use: the gpt-tokenizer module for one encoding is megabytes of ranks, so server start-up (and
// every gateway that never counts) does not pay for it.

export type EncodingName = 'o200k_base' | 'cl100k_base';

/** Counts the BPE tokens of a text; special-token markers in it are counted as plain text. */
export type TokenCounter = (text: string) => number;

/** The model families OpenAI documents on o200k_base. */
const O200K = /^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4|codex)/;
/** GPT-4, GPT-3.5 and the embedding models of that time. */
const CL100K = /^(?:gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada)/;

/**
 * The encoding for an upstream model name. A routed name may carry an owner (`openai/gpt-4`, as
 * OpenRouter writes them): its last segment is read. Any model outside OpenAI's families (Gemini,
 * Cohere, Llama…) gets o200k_base as the estimate: its vocabulary is the largest and closest to
 * today's tokenizers.
 */
export function encodingFor(model: string): EncodingName {
  const name = (model.split('/').pop() ?? model).toLowerCase();
  if (O200K.test(name)) return 'o200k_base';
  if (CL100K.test(name)) return 'cl100k_base';
  return 'o200k_base';
}

interface EncodingModule {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

// Text such as "<|endoftext|>" is the client's text, not a control token: never refused, counted.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

const loading = new Map<EncodingName, Promise<TokenCounter>>();

async function load(name: EncodingName): Promise<TokenCounter> {
  const module: EncodingModule =
    name === 'o200k_base'
      ? await import('gpt-tokenizer/encoding/o200k_base')
      : await import('gpt-tokenizer/encoding/cl100k_base');
  return (text) => (text === '' ? 0 : module.countTokens(text, PLAIN_TEXT));
}

/** The counter for an encoding, loaded once and shared. */
export function counterFor(name: EncodingName): Promise<TokenCounter> {
  let counter = loading.get(name);
  if (counter === undefined) {
    counter = load(name);
    // A failed load is not cached: the next request tries again.
    counter.catch(() => loading.delete(name));
    loading.set(name, counter);
  }
  return counter;
}
