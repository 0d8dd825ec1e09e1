// What differs per upstream protocol when a Messages request goes through the OpenAI chat hub:
// the Anthropic settings OpenAI chat has no field for (top_k, a thinking budget, PDF documents)
// reach Gemini and Cohere through their chat translator's `extra_body`, which each merges into
// its native request; an OpenAI-protocol upstream gets `reasoning_effort` and loses top_k.
import type { Json } from './messages-types.js';

/** How a base64 PDF document reaches the chat translator, if it can. */
export type PdfRoute =
  /** OpenAI's `file` content part with a data URL. */
  | 'file-part'
  /** An `image_url` part with a data URL: Gemini's translator makes any data URL inlineData. */
  | 'data-url'
  /** The target takes no documents: a 400 naming the block. */
  | 'none';

/** Anthropic's `thinking` as read from the request. */
export type ThinkingRequest = { type: 'enabled'; budget: number } | { type: 'adaptive' };

export interface ChatTarget {
  pdf: PdfRoute;
  /** Tool-call signatures carried in tool_use ids go back on the calls (Gemini's, tool-use-id.ts). */
  toolSignatures?: boolean;
  /** Whether `top_k` reaches the upstream (through extra_body); otherwise it is dropped and named. */
  topK?: (value: number, extra: Json) => void;
  /** Thinking into the chat body (a field, or extra_body); undefined: not sent. */
  thinking(thinking: ThinkingRequest, chat: Json, extra: Json): void;
}

/** Anthropic's budget_tokens → OpenAI's reasoning_effort: low ≤ 4096 < medium ≤ 16384 < high. */
export function reasoningEffortOf(budget: number): 'low' | 'medium' | 'high' {
  if (budget <= 4096) return 'low';
  if (budget <= 16384) return 'medium';
  return 'high';
}

/** A field of extra_body that is itself an object, created on first use. */
function section(extra: Json, key: string): Json {
  const current = extra[key];
  if (typeof current === 'object' && current !== null && !Array.isArray(current)) return current as Json;
  const created: Json = {};
  extra[key] = created;
  return created;
}

/**
 * OpenAI-protocol upstreams. `adaptive` sends nothing: the model's default effort is its own
 * choice, which is what adaptive asks for.
 */
export const OPENAI_TARGET: ChatTarget = {
  pdf: 'file-part',
  thinking(thinking, chat) {
    if (thinking.type === 'enabled') chat.reasoning_effort = reasoningEffortOf(thinking.budget);
  },
};

/**
 * Gemini: generationConfig.topK, and generationConfig.thinkingConfig.thinkingBudget with the
 * client's own budget (-1, Gemini's dynamic thinking, for `adaptive`).
 */
export const GEMINI_TARGET: ChatTarget = {
  pdf: 'data-url',
  toolSignatures: true,
  topK(value, extra) {
    section(extra, 'generationConfig').topK = value;
  },
  thinking(thinking, _chat, extra) {
    const budget = thinking.type === 'enabled' ? thinking.budget : -1;
    section(extra, 'generationConfig').thinkingConfig = { thinkingBudget: budget };
  },
};

/** Cohere v2: `k`, and `thinking` with its `token_budget` (none for `adaptive`). */
export const COHERE_TARGET: ChatTarget = {
  pdf: 'none',
  topK(value, extra) {
    extra.k = value;
  },
  thinking(thinking, _chat, extra) {
    extra.thinking =
      thinking.type === 'enabled' ? { type: 'enabled', token_budget: thinking.budget } : { type: 'enabled' };
  },
};
