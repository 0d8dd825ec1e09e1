// What differs per upstream protocol when a Responses request goes through the OpenAI chat hub:
// how a PDF reaches the chat translator, whether Gemini's tool-call signatures go back, and how
// `reasoning.effort` is asked for (chat's reasoning_effort for OpenAI-compatible servers, Gemini's
// thinkingBudget and Cohere's thinking through the chat translator's extra_body; Anthropic's chat
// translator has no effort, so it drops and names it).
import type { PdfRoute } from '../messages/chat-targets.js';
import type { Json } from './responses-types.js';

export interface ResponsesTarget {
  pdf: PdfRoute;
  /** Tool-call signatures carried in call ids go back on the calls (Gemini's, tool-use-id.ts). */
  toolSignatures?: boolean;
  /** `reasoning.effort` into the chat body (a field, or extra_body). */
  effort(effort: string, chat: Json, extra: Json): void;
}

/** A field of extra_body that is itself an object, created on first use. */
function section(extra: Json, key: string): Json {
  const current = extra[key];
  if (typeof current === 'object' && current !== null && !Array.isArray(current)) return current as Json;
  const created: Json = {};
  extra[key] = created;
  return created;
}

/** Gemini's thinking budgets for OpenAI's efforts, as Google's own OpenAI-compatible layer maps them. */
const GEMINI_BUDGETS: Readonly<Record<string, number>> = {
  none: 0,
  minimal: 1024,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 24576,
};

/** OpenAI-protocol upstreams (chat-only servers): chat's own reasoning_effort. */
export const OPENAI_RESPONSES_TARGET: ResponsesTarget = {
  pdf: 'file-part',
  effort(effort, chat) {
    chat.reasoning_effort = effort;
  },
};

/** Anthropic through its chat translator: images yes, PDFs no (no chat `file` part there). */
export const ANTHROPIC_RESPONSES_TARGET: ResponsesTarget = {
  pdf: 'none',
  effort(effort, chat) {
    chat.reasoning_effort = effort;
  },
};

export const GEMINI_RESPONSES_TARGET: ResponsesTarget = {
  pdf: 'data-url',
  toolSignatures: true,
  effort(effort, _chat, extra) {
    const budget = GEMINI_BUDGETS[effort];
    if (budget !== undefined) section(extra, 'generationConfig').thinkingConfig = { thinkingBudget: budget };
  },
};

export const COHERE_RESPONSES_TARGET: ResponsesTarget = {
  pdf: 'none',
  effort(effort, _chat, extra) {
    extra.thinking = effort === 'none' ? { type: 'disabled' } : { type: 'enabled' };
  },
};
